/* Draws the dashboard charts with Chart.js from the data the page embeds (json_script),
 * and refreshes the time series every 5 s from the same URL with ?format=json, so a new
 * event shows up within seconds of the consumer applying it. */
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  var charts = [];
  var brand = getComputedStyle(document.documentElement).getPropertyValue("--brand").trim() || "#2563eb";

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var SERIES = {
    active_learners: { label: "Active learners", color: brand },
    lesson_completions: { label: "Lesson completions", color: "#16a34a" },
    course_completions: { label: "Course completions", color: "#f59e0b" }
  };

  function datasets(series) {
    return Object.keys(SERIES).filter(function (key) { return key in series; }).map(function (key) {
      return { label: SERIES[key].label, data: series[key], borderColor: SERIES[key].color,
               backgroundColor: SERIES[key].color, tension: 0.2, pointRadius: 2 };
    });
  }

  var timeline = document.getElementById("timeline-chart");
  var series = data("timeline-data");
  if (timeline && series) {
    var chart = new Chart(timeline, {
      type: "line",
      data: { labels: series.days, datasets: datasets(series) },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    charts.push(chart);
    timeline.dataset.ready = "1";
    var url = new URL(window.location.href);
    url.searchParams.set("format", "json");
    setInterval(function () {
      if (document.visibilityState !== "visible") return;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (fresh) {
          if (!fresh) return;
          chart.data.labels = fresh.days;
          chart.data.datasets = datasets(fresh);
          chart.update();
          var total = document.querySelector("[data-live-total]");
          if (total && fresh.active_learners) {
            total.textContent = fresh.active_learners[fresh.active_learners.length - 1];
          }
        })
        .catch(function () {});
    }, 5000);
  }

  var funnel = document.getElementById("funnel-chart");
  var steps = data("funnel-data");
  if (funnel && steps && steps.labels.length) {
    charts.push(new Chart(funnel, {
      type: "bar",
      data: { labels: steps.labels, datasets: [{ label: "Viewers", data: steps.viewers, backgroundColor: brand }] },
      options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
    }));
  }
})();
