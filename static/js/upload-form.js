// The upload page: a form driving LMSUpload with a progress bar and a cancel button.
(function () {
  "use strict";

  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var progress = form.querySelector("[data-upload-progress]");
    var status = form.querySelector("[data-upload-status]");
    var start = form.querySelector("[data-upload-start]");
    var cancel = form.querySelector("[data-upload-cancel]");
    var controller = null;

    cancel.addEventListener("click", function () {
      if (controller) controller.abort();
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = form.querySelector("input[type=file]").files[0];
      if (!file) return;
      controller = new AbortController();
      start.disabled = true;
      cancel.style.display = "";
      progress.hidden = false;
      progress.value = 0;
      status.textContent = "Uploading " + file.name + "…";
      window.LMSUpload.upload(file, {
        kind: form.querySelector("[name=kind]").value,
        startUrl: form.dataset.startUrl,
        csrf: form.dataset.csrf,
        lesson: form.dataset.lesson ? parseInt(form.dataset.lesson, 10) : null,
        signal: controller.signal,
        onProgress: function (fraction) {
          progress.value = Math.round(fraction * 100);
        },
      })
        .then(function () {
          status.textContent = file.name + " is uploaded and checked. Videos get streaming versions in a few minutes.";
          window.setTimeout(function () { window.location.reload(); }, 1200);
        })
        .catch(function (error) {
          status.textContent = error.name === "AbortError" ? "Upload cancelled." : error.message;
          progress.hidden = true;
        })
        .then(function () {
          start.disabled = false;
          cancel.style.display = "none";
          controller = null;
        });
    });
  });
})();
