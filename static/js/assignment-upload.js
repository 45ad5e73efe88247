// An assignment's file: sent from the browser straight to private storage with LMSUpload
// (progress bar, cancel), checked by the server, then named in the hand-in form by its id.
// Without JavaScript the controls stay hidden and a <noscript> note explains why.
(function () {
  "use strict";

  document.querySelectorAll("[data-assignment-upload]").forEach(function (box) {
    var form = box.closest("form");
    var controls = box.querySelector("[data-upload-controls]");
    var input = box.querySelector("input[type=file]");
    var field = box.querySelector("[data-asset-field]");
    var progress = box.querySelector("[data-upload-progress]");
    var cancel = box.querySelector("[data-upload-cancel]");
    var cancelRow = box.querySelector("[data-upload-cancel-row]");
    var status = box.querySelector("[data-upload-status]");
    var handIn = form.querySelector("[data-hand-in]");
    var maxBytes = parseInt(box.dataset.maxBytes, 10);
    var controller = null;

    controls.hidden = false;
    if (field.value) status.textContent = "A file is attached; choose another to replace it.";

    cancel.addEventListener("click", function () {
      if (controller) controller.abort();
    });

    input.addEventListener("change", function () {
      var file = input.files[0];
      field.value = "";
      if (controller) controller.abort();
      if (!file) {
        status.textContent = "";
        return;
      }
      if (file.size > maxBytes) {
        status.textContent = file.name + " is too large: this assignment takes files up to " +
          Math.round(maxBytes / 1048576) + " MB.";
        input.value = "";
        return;
      }
      var mine = new AbortController();
      controller = mine;
      handIn.disabled = true;
      cancelRow.hidden = false;
      progress.hidden = false;
      progress.value = 0;
      status.textContent = "Uploading " + file.name + "…";
      function settle() {
        handIn.disabled = false;
        cancelRow.hidden = true;
        controller = null;
      }
      window.LMSUpload.upload(file, {
        kind: "submission",
        startUrl: box.dataset.startUrl,
        csrf: box.dataset.csrf,
        signal: mine.signal,
        onProgress: function (fraction) {
          progress.value = Math.round(fraction * 100);
        },
      })
        .then(function (asset) {
          if (controller !== mine) return; // replaced by a newer choice
          settle();
          field.value = asset.asset;
          progress.value = 100;
          status.textContent = file.name + " is uploaded and checked. Hand in when you are ready.";
        })
        .catch(function (error) {
          if (controller !== mine) return;
          settle();
          input.value = "";
          progress.hidden = true;
          status.textContent = error.name === "AbortError"
            ? "Upload cancelled: nothing is attached."
            : error.message;
        });
    });

    form.addEventListener("submit", function (event) {
      if (controller) {
        event.preventDefault();
        status.textContent = "Wait for the upload to finish, or cancel it.";
      }
    });
  });
})();
