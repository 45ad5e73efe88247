// Attach HLS playback to <video data-hls="..."> elements: hls.js where Media Source
// Extensions exist, the browser's own HLS (Safari, iOS) otherwise, and the progressive file
// (data-fallback) as the last resort. The <video> element stays the real player, so
// scripts listening to its events (progress reporting, analytics) work unchanged.
(function () {
  "use strict";

  function attach(video) {
    var source = video.dataset.hls;
    var fallback = video.dataset.fallback;
    if (window.Hls && window.Hls.isSupported()) {
      var hls = new window.Hls({
        // Under CloudFront, playlists and segments are authorised by signed cookies that the
        // app sets for the video's folder; the browser sends them only with credentials.
        xhrSetup: function (xhr) {
          xhr.withCredentials = video.dataset.hlsCookies === "1";
        },
      });
      hls.on(window.Hls.Events.ERROR, function (_event, data) {
        if (data.fatal && fallback) {
          hls.destroy();
          video.src = fallback;
        }
      });
      hls.loadSource(source);
      hls.attachMedia(video);
      video.hls = hls;
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = source;
    } else if (fallback) {
      video.src = fallback;
    }
  }

  document.querySelectorAll("video[data-hls]").forEach(attach);
})();
