// Quiz attempt page: saves each answer as it changes, counts down the time limit, and
// hands the attempt in when time runs out. Without JavaScript the form still submits.
(function () {
  "use strict";
  var form = document.querySelector("form[data-quiz]");
  if (!form) return;
  var status = document.querySelector("[data-save-status]");

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

  var pending = {};
  var timer = null;
  function flush() {
    timer = null;
    var answers = pending;
    pending = {};
    if (!Object.keys(answers).length) return;
    fetch(form.dataset.answersUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf },
      body: JSON.stringify({ answers: answers }),
    }).then(function (r) {
      return r.json().then(function (body) {
        if (status) status.textContent = r.ok ? "Saved." : body.error || "Not saved.";
      });
    }).catch(function () {
      if (status) status.textContent = "Offline: your answers are kept on this page and sent when you hand in.";
    });
  }
  form.addEventListener("input", function (event) {
    var fieldset = event.target.closest("fieldset[data-question]");
    if (!fieldset) return;
    pending[fieldset.dataset.question] = responseOf(fieldset);
    if (status) status.textContent = "Saving…";
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, 400);
  });

  var clock = document.querySelector("[data-seconds-left]");
  if (clock) {
    var deadline = Date.now() + Number(clock.dataset.secondsLeft) * 1000;
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      clock.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left <= 0) { form.submit(); return; }
      setTimeout(tick, 1000);
    };
    tick();
  }
})();
