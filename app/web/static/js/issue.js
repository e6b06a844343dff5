/* The issue page shows new public steps as they happen: when its live feed (Server-Sent
   Events) names one, the page re-reads itself and swaps in the parts that change (status,
   progress, timeline, the reporter's "is it fixed?"). Without this script, a reload does it. */
"use strict";
(function () {
  var article = document.querySelector("article.issue[data-live]");
  if (!article || !window.EventSource) { return; }
  var note = document.getElementById("live-note");
  var reading = false, again = false;
  var refresh = function () {
    if (reading) { again = true; return; }
    reading = true;
    fetch(window.location.pathname + window.location.search, {
      credentials: "same-origin", headers: { Accept: "text/html" }
    })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-part]").forEach(function (part) {
          var replacement = fresh.getElementById(part.id);
          if (replacement) { part.replaceWith(document.adoptNode(replacement)); }
        });
        article.dataset.updates = String((parseInt(article.dataset.updates, 10) || 0) + 1);
        if (note) { note.textContent = note.dataset.text; }
      })
      .catch(function () { /* the next step, or a reload, brings it */ })
      .then(function () {
        reading = false;
        if (again) { again = false; refresh(); }
      });
  };
  new EventSource(article.dataset.live).onmessage = refresh;
})();
