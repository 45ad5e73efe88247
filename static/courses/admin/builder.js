/* Course builder helpers for the tenant admin (no libraries):
 * - a "Preview" button under every Markdown textarea (data-markdown-preview = the preview URL);
 * - lesson forms show only the fields of the chosen kind (video, PDF, external video);
 * - forms with data-confirm ask before they submit.
 * Everything works without this file; it only makes the pages quicker to use.
 */
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setUpPreview(textarea) {
    var url = textarea.getAttribute("data-markdown-preview");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "lms-button lms-preview-toggle";
    button.textContent = "Preview";
    button.setAttribute("aria-expanded", "false");
    var panel = document.createElement("div");
    panel.className = "lms-markdown-preview";
    panel.id = textarea.id + "_preview";
    panel.hidden = true;
    panel.setAttribute("aria-live", "polite");
    panel.setAttribute("tabindex", "-1");
    button.setAttribute("aria-controls", panel.id);
    // Keep the textarea, its button and the preview together in the admin's field row.
    var wrapper = document.createElement("div");
    wrapper.className = "lms-md-field";
    textarea.insertAdjacentElement("beforebegin", wrapper);
    wrapper.appendChild(textarea);
    wrapper.appendChild(button);
    wrapper.appendChild(panel);

    function hide() {
      panel.hidden = true;
      textarea.hidden = false;
      button.textContent = "Preview";
      button.setAttribute("aria-expanded", "false");
    }

    button.addEventListener("click", function () {
      if (!panel.hidden) {
        hide();
        textarea.focus();
        return;
      }
      var body = new FormData();
      body.append("text", textarea.value);
      button.disabled = true;
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
      })
        .then(function (response) {
          return response.json().then(function (data) {
            if (!response.ok) throw new Error(data.error || "The preview failed.");
            return data;
          });
        })
        .then(function (data) {
          // Sanitized on the server (courses.markdown.render_markdown): the same HTML learners get.
          panel.innerHTML = data.html || "<p><em>Nothing to preview.</em></p>";
          panel.hidden = false;
          textarea.hidden = true;
          button.textContent = "Edit";
          button.setAttribute("aria-expanded", "true");
          panel.focus();
        })
        .catch(function (error) {
          panel.textContent = error.message || "The preview failed.";
          panel.hidden = false;
        })
        .finally(function () {
          button.disabled = false;
        });
    });
  }

  var KIND_FIELDS = { video: "video", document: "document", embed: "embed_url" };

  function setUpKindSwitch(select) {
    function rowOf(name) {
      return document.querySelector(".form-row.field-" + name) || document.querySelector(".field-" + name);
    }
    function update() {
      Object.keys(KIND_FIELDS).forEach(function (kind) {
        var row = rowOf(KIND_FIELDS[kind]);
        if (!row) return;
        // A field with an error stays visible whatever the kind, so the error is never hidden.
        var hasError = row.classList.contains("errors") || row.querySelector(".errorlist");
        row.hidden = select.value !== kind && !hasError;
      });
    }
    select.addEventListener("change", update);
    update();
  }

  function setUpConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  }

  // Up/down buttons reload the page; put the keyboard focus back on the button just used,
  // so moving an item several places is a matter of pressing Enter again.
  var MOVE_KEY = "lms-builder-last-move";

  function rememberMove(form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !window.sessionStorage) return;
      sessionStorage.setItem(MOVE_KEY, JSON.stringify({ action: form.getAttribute("action"), direction: button.value }));
    });
  }

  function restoreMoveFocus() {
    if (!window.sessionStorage) return;
    var saved = sessionStorage.getItem(MOVE_KEY);
    sessionStorage.removeItem(MOVE_KEY);
    if (!saved) return;
    try {
      saved = JSON.parse(saved);
    } catch (error) {
      return;
    }
    var form = Array.prototype.find.call(document.querySelectorAll("form.lms-move"), function (candidate) {
      return candidate.getAttribute("action") === saved.action;
    });
    if (!form) return;
    var buttons = form.querySelectorAll("button");
    var same = form.querySelector('button[value="' + saved.direction + '"]');
    var target = same && !same.disabled ? same : Array.prototype.find.call(buttons, function (b) { return !b.disabled; });
    if (target) target.focus();
  }

  function ready() {
    document.querySelectorAll("form.lms-move").forEach(rememberMove);
    restoreMoveFocus();
    document.querySelectorAll("textarea[data-markdown-preview]").forEach(setUpPreview);
    var kind = document.querySelector("body.model-lesson select#id_kind");
    if (kind) setUpKindSwitch(kind);
    document.querySelectorAll("form[data-confirm]").forEach(setUpConfirm);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
