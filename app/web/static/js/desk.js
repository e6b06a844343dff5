/* The desk's live queue and its chart. The queue is re-read from the server whenever the feed
   (Server-Sent Events) reports a change; the page works without it (reload). */
"use strict";
(function () {
  var live = document.getElementById("live");
  if (live && window.EventSource) {
    var refreshing = false;
    var refresh = function () {
      if (refreshing) { return; }
      refreshing = true;
      fetch(live.dataset.queue, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          refreshing = false;
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("queue");
          var current = document.getElementById("queue");
          if (fresh && current) { current.replaceWith(fresh); live.dataset.updates = String((parseInt(live.dataset.updates, 10) || 0) + 1); }
        })
        .catch(function () { refreshing = false; });
    };
    var source = new EventSource(live.dataset.feed);
    source.onmessage = refresh;
  }
  var chart = document.getElementById("kpi-chart");
  if (chart && window.uPlot) {
    var data = JSON.parse(chart.dataset.chart);
    if (data.days.length) {
      var xs = data.days.map(function (d) { return Date.parse(d + "T00:00:00Z") / 1000; });
      new window.uPlot({
        width: Math.min(640, chart.clientWidth || 640), height: 220,
        series: [{}, { label: data.labels[0], stroke: "#0b5394", width: 2 }, { label: data.labels[1], stroke: "#2e7d32", width: 2 }],
        axes: [{}, {}]
      }, [xs, data.reported, data.resolved], chart);
    }
  }
})();
