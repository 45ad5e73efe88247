// LMSUpload: send a file from the browser straight to private storage, then have the
// server verify it. Reusable by any page (lesson media, assignment files):
//
//   LMSUpload.upload(file, {
//     kind: "document",            // video | document | image | file
//     startUrl: "/media/uploads/", // POST {kind, filename, content_type, size, lesson?}
//     csrf: token, lesson: 12,     // lesson is optional
//     onProgress: function (fraction) {},
//     signal: abortController.signal,   // cancel
//   }).then(function (asset) { /* {asset, status: "ready", url} */ },
//           function (error) { /* error.message is for people */ });
//
// Small files use one presigned POST; large videos use multipart with presigned part URLs.
// The server chooses the key and S3 enforces type, disposition and size; "finish" checks the
// bytes once (a second finish answers 409) and serves a copy no upload can overwrite.
(function () {
  "use strict";

  function api(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok && response.status !== 422) throw new Error(data.error || "The server refused the upload.");
        return data;
      });
    });
  }

  function send(method, url, body, signal, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) onProgress(event.loaded);
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve(xhr);
        else reject(new Error("Storage refused the file (HTTP " + xhr.status + "). Check its type and size."));
      };
      xhr.onerror = function () {
        reject(new Error("The connection to storage failed. Try again."));
      };
      xhr.onabort = function () {
        reject(new DOMException("Upload cancelled.", "AbortError"));
      };
      if (signal) {
        if (signal.aborted) return xhr.onabort();
        signal.addEventListener("abort", function () { xhr.abort(); }, { once: true });
      }
      xhr.send(body);
    });
  }

  function base(startUrl) {
    return startUrl.replace(/\/?$/, "/");
  }

  function upload(file, options) {
    var csrf = options.csrf;
    var onProgress = options.onProgress || function () {};
    var signal = options.signal;
    var ticket = null;
    var root = base(options.startUrl);

    function finish() {
      return api(root + ticket.asset + "/finish/", csrf).then(function (data) {
        if (data.status !== "ready") throw new Error(data.reason || data.error || "The file was rejected.");
        onProgress(1);
        return data;
      });
    }

    function viaPost() {
      var form = new FormData();
      Object.keys(ticket.fields).forEach(function (name) {
        form.append(name, ticket.fields[name]);
      });
      form.append("file", file);
      return send("POST", ticket.url, form, signal, function (loaded) {
        onProgress(Math.min(0.99, loaded / file.size));
      });
    }

    function viaParts() {
      var done = 0;
      var next = 1;
      function batch() {
        if (next > ticket.part_count) return Promise.resolve();
        var numbers = [];
        for (var n = next; n <= ticket.part_count && numbers.length < 20; n++) numbers.push(n);
        next = numbers[numbers.length - 1] + 1;
        return api(root + ticket.asset + "/parts/", csrf, { parts: numbers }).then(function (data) {
          if (!data.urls) throw new Error(data.error || "No part addresses.");
          return numbers.reduce(function (chain, number) {
            return chain.then(function () {
              var start = (number - 1) * ticket.part_size;
              var blob = file.slice(start, Math.min(file.size, start + ticket.part_size));
              return send("PUT", data.urls[String(number)], blob, signal, function (loaded) {
                onProgress(Math.min(0.99, (done + loaded) / file.size));
              }).then(function () {
                done += blob.size;
              });
            });
          }, Promise.resolve()).then(batch);
        });
      }
      return batch();
    }

    return api(root, csrf, {
      kind: options.kind,
      filename: file.name,
      content_type: file.type,
      size: file.size,
      lesson: options.lesson || null,
    })
      .then(function (data) {
        if (!data.asset) throw new Error(data.error || "The server refused the upload.");
        ticket = data;
        return ticket.method === "multipart" ? viaParts() : viaPost();
      })
      .then(finish)
      .catch(function (error) {
        if (ticket && error && error.name === "AbortError") {
          api(root + ticket.asset + "/abort/", csrf).catch(function () {});
        }
        throw error;
      });
  }

  window.LMSUpload = { upload: upload };
})();
