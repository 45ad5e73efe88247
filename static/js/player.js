// The lesson player's video: resume where the learner left off, and report progress to
// the server (every 15 s while playing, and on pause, end and leaving the page).
(function () {
  "use strict";

  var HEARTBEAT_MS = 15000;
  // Two timeupdate events further apart than this were a seek, not watching.
  var MAX_STEP_SECONDS = 2;

  function round(seconds) {
    return Math.round(seconds * 10) / 10;
  }

  function showProgress(data) {
    if (!data) return;
    if (typeof data.course_percent === "number") {
      document.querySelectorAll(".player-aside [data-progress]").forEach(function (bar) {
        bar.setAttribute("aria-valuenow", String(data.course_percent));
        var fill = bar.querySelector(".progress-fill");
        if (fill) fill.style.width = data.course_percent + "%";
      });
      document.querySelectorAll("[data-course-percent]").forEach(function (el) {
        el.textContent = String(data.course_percent);
      });
    }
    if (data.status === "completed") {
      var done = document.querySelector("[data-lesson-done]");
      if (done) done.hidden = false;
      var current = document.querySelector(".contents-list .is-current");
      if (current && !current.classList.contains("is-done")) {
        current.classList.add("is-done");
        var status = current.querySelector(".status");
        if (status) status.textContent = "✓";
      }
    }
  }

  function track(video) {
    var url = video.dataset.progressUrl;
    var token = video.dataset.csrf;
    var resumeAt = parseFloat(video.dataset.resume || "0") || 0;
    var watched = 0;
    var lastTime = null;
    var lastSent = null;
    var timer = null;

    function resume() {
      // Resume unless the learner had (nearly) reached the end: then start over.
      if (resumeAt > 0 && isFinite(video.duration) && resumeAt < video.duration - 3) {
        video.currentTime = resumeAt;
      }
    }

    function send(leaving) {
      if (!isFinite(video.duration) || video.duration <= 0) return;
      var position = round(video.currentTime);
      if (position === lastSent && watched < 0.5) return;
      var body = JSON.stringify({ position: position, duration: round(video.duration), watched: round(watched) });
      lastSent = position;
      watched = 0;
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        keepalive: Boolean(leaving),
        headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: body,
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(showProgress)
        .catch(function () {
          // Offline or the session ended: the next heartbeat tries again.
        });
    }

    function stopTimer() {
      if (timer !== null) {
        clearInterval(timer);
        timer = null;
      }
    }

    if (video.readyState >= 1) resume();
    else video.addEventListener("loadedmetadata", resume, { once: true });

    video.addEventListener("timeupdate", function () {
      var now = video.currentTime;
      if (lastTime !== null && !video.seeking) {
        var step = now - lastTime;
        if (step > 0 && step < MAX_STEP_SECONDS) watched += step;
      }
      lastTime = now;
    });
    video.addEventListener("seeking", function () {
      lastTime = null;
    });
    video.addEventListener("play", function () {
      if (timer === null) timer = setInterval(send, HEARTBEAT_MS);
    });
    video.addEventListener("pause", function () {
      stopTimer();
      send(false);
    });
    video.addEventListener("ended", function () {
      stopTimer();
      send(false);
    });
    window.addEventListener("pagehide", function () {
      if (!video.paused) send(true);
    });
  }

  document.querySelectorAll("video[data-progress-url]").forEach(track);
})();
