// Quiz attempt page: saves each answer as it changes, shows the server's message at the
// question it is about, counts down the time limit, and hands the attempt in when time runs
// out. Each question is saved on its own (ADR 0085): a number the server cannot read is
// reported at its question and never keeps the other answers from being saved. Without
// JavaScript the form still submits (and the server saves every answer it can read).
(function () {
  "use strict";
  var form = document.querySelector("form[data-quiz]");
  if (!form) return;
  var status = document.querySelector("[data-save-status]");

  function say(text) { if (status) status.textContent = text; }

  function fieldsetOf(questionId) {
    return form.querySelector('fieldset[data-question="' + questionId + '"]');
  }

  function showError(questionId, message) {
    var fieldset = fieldsetOf(questionId);
    if (!fieldset) return;
    var box = fieldset.querySelector("[data-question-error]");
    var input = fieldset.querySelector("input[type=text], textarea");
    fieldset.classList.toggle("has-error", Boolean(message));
    if (box) { box.textContent = message || ""; box.hidden = !message; }
    if (input) {
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  function responseOf(fieldset) {
    var kind = fieldset.dataset.kind;
    var inputs = fieldset.querySelectorAll("input, textarea");
    if (kind === "multiple") {
      var ids = [];
      inputs.forEach(function (i) { if (i.checked) ids.push(Number(i.value)); });
      return { choices: ids };
    }
    if (kind === "single" || kind === "true_false") {
      var checked = fieldset.querySelector("input:checked");
      if (!checked) return kind === "single" ? { choice: null } : { value: null };
      return kind === "single" ? { choice: Number(checked.value) } : { value: checked.value === "true" };
    }
    if (kind === "numeric") return { value: inputs[0].value };
    return { text: inputs[0].value };
  }

  var pending = {};   // question id -> response not yet sent
  var inFlight = null; // the answers of the request on its way
  var timer = null;

  function flush(keepalive) {
    timer = null;
    if (inFlight && !keepalive) { timer = setTimeout(flush, 400); return; }
    var answers = pending;
    pending = {};
    if (!Object.keys(answers).length) return;
    inFlight = answers;
    fetch(form.dataset.answersUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: Boolean(keepalive),
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf },
      body: JSON.stringify({ answers: answers }),
    }).then(function (r) {
      return r.json().then(function (body) {
        inFlight = null;
        var errors = body.errors || {};
        Object.keys(answers).forEach(function (id) {
          if (!(id in pending)) showError(id, errors[id] || "");
        });
        if (r.ok) say("Saved.");
        else if (r.status === 422) {
          var count = Object.keys(errors).length;
          say(count === 1 ? "Saved, except one answer: see the message at its question."
            : "Saved, except " + count + " answers: see the messages at their questions.");
        } else say(body.error || "Not saved.");
      });
    }).catch(function () {
      // Keep what was not sent, unless the learner changed it since; try again shortly.
      inFlight = null;
      Object.keys(answers).forEach(function (id) { if (!(id in pending)) pending[id] = answers[id]; });
      say("Offline: your answers are kept on this page and sent again when the connection is back.");
      if (!timer) timer = setTimeout(flush, 5000);
    });
  }

  function changed(event) {
    var fieldset = event.target.closest("fieldset[data-question]");
    if (!fieldset) return;
    pending[fieldset.dataset.question] = responseOf(fieldset);
    say("Saving…");
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, 400);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // Leaving the page (another tab, closing it): send what is still waiting.
  window.addEventListener("pagehide", function () { if (Object.keys(pending).length) flush(true); });

  var clock = document.querySelector("[data-seconds-left]");
  if (clock) {
    var deadline = Date.now() + Number(clock.dataset.secondsLeft) * 1000;
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      clock.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left <= 0) {
        // Time is up: hand in without the confirmation step.
        var confirm = document.createElement("input");
        confirm.type = "hidden";
        confirm.name = "confirm";
        confirm.value = "1";
        form.appendChild(confirm);
        form.submit();
        return;
      }
      setTimeout(tick, 1000);
    };
    tick();
  }
})();
