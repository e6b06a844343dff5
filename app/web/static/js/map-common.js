/* Shared by the pages' maps: a Leaflet map whose tiles are optional (the page works when they
   cannot load: boundaries and markers are drawn from our own API). Strict inside its own
   function, as it may be joined with other scripts (app/web/assets.py). */
(function () {
  "use strict";
  window.civicloopMap = function (element, options) {
    var map = L.map(element, { center: options.center || [13.75, 100.5], zoom: options.zoom || 11, maxZoom: 19 });
    var url = element.dataset.tileUrl;
    if (url) {
      L.tileLayer(url, { maxZoom: 19, attribution: element.dataset.tileAttribution || "" }).addTo(map);
    }
    return map;
  };
  /* District outlines, drawn for a zoom (the API simplifies them for it): first for the page's
     `data-districts-zoom` (the page preloads that request), then finer ones whenever the reader
     zooms in closer than any fetched so far. `done(layer)` once the first have drawn. */
  window.civicloopDistricts = function (map, done) {
    var shown = Number(map.getContainer().dataset.districtsZoom);
    var layer = null;
    function outlines(zoom) {
      // No headers of its own: it must be the very request the page preloaded.
      return fetch("/api/v1/districts?zoom=" + zoom).then(function (r) { return r.ok ? r.json() : null; });
    }
    function refine() {
      var zoom = Math.round(map.getZoom());
      if (!layer || zoom <= shown) { return; }
      shown = zoom;
      outlines(zoom).then(function (data) {
        if (data && zoom === shown) { layer.clearLayers(); layer.addData(data); }
      }).catch(function () {});
    }
    outlines(shown)
      .then(function (data) {
        if (!data || !data.features || !data.features.length) { if (done) { done(null); } return; }
        layer = L.geoJSON(data, {
          className: "district",
          style: { color: "#0b5394", weight: 2, fill: true, fillOpacity: 0.04 }
        }).addTo(map);
        if (done) { done(layer); }
        map.on("zoomend", refine);
        refine();
      })
      .catch(function () { if (done) { done(null); } });
  };
})();
