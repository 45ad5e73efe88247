/* Learner events from the lesson player to /analytics/beacon/ (analytics, issue #5).
 *
 * Hooks the page's <video> element from outside (the player itself is static/js/player.js):
 * a `video.progress` heartbeat every 15 s while playing (seconds watched since the last one,
 * position, duration), one on pause and at the end, and a last one when the page is hidden
 * (navigator.sendBeacon, which survives the page closing). Batches are form-encoded so the
 * CSRF token travels in the body, which sendBeacon cannot put in a header.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var video = document.querySelector("video");
  if (!script || !video) return;
  var url = script.dataset.beaconUrl;
  var csrf = script.dataset.csrf;
  var courseId = parseInt(script.dataset.course, 10);
  var lessonId = parseInt(script.dataset.lesson, 10);
  var HEARTBEAT_MS = 15000;
  var MAX_BATCH = 20;
  var queue = [];
  var watched = 0;
  var last = null;
  var timer = null;

  function seconds(value) {
    return isFinite(value) && value > 0 ? Math.round(value * 10) / 10 : 0;
  }

  function heartbeat() {
    if (watched <= 0) return;
    queue.push({
      type: "video.progress",
      course_id: courseId,
      lesson_id: lessonId,
      position: seconds(video.currentTime),
      duration: seconds(video.duration),
      seconds_watched: seconds(Math.min(watched, 60))
    });
    watched = 0;
    if (queue.length > MAX_BATCH) queue = queue.slice(-MAX_BATCH);
  }

  function flush(leaving) {
    if (!queue.length) return;
    var body = new URLSearchParams({ csrfmiddlewaretoken: csrf, events: JSON.stringify(queue) });
    queue = [];
    if (leaving && navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      keepalive: true,
      headers: { "X-CSRFToken": csrf }
    }).catch(function () { /* analytics never disturbs the lesson */ });
  }

  video.addEventListener("timeupdate", function () {
    var now = video.currentTime;
    if (last !== null && !video.paused && !video.seeking) {
      var step = now - last;
      if (step > 0 && step < 2) watched += step;
    }
    last = now;
  });
  video.addEventListener("seeking", function () { last = null; });
  video.addEventListener("play", function () {
    if (timer === null) timer = setInterval(function () { heartbeat(); flush(false); }, HEARTBEAT_MS);
  });
  ["pause", "ended"].forEach(function (name) {
    video.addEventListener(name, function () {
      clearInterval(timer);
      timer = null;
      heartbeat();
      flush(false);
    });
  });
  window.addEventListener("pagehide", function () { heartbeat(); flush(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { heartbeat(); flush(true); }
  });
  window.addEventListener("pageshow", function (event) {
    // Back from the browser's page cache: the server did not see this view.
    if (event.persisted) {
      queue.push({ type: "lesson.viewed", course_id: courseId, lesson_id: lessonId });
      flush(false);
    }
  });
})();
