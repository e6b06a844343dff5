/* Shared by the pages' maps: a Leaflet map whose tiles are optional (the page works when they
   cannot load: boundaries and markers are drawn from our own API). */
"use strict";
window.civicloopMap = function (element, options) {
  var map = L.map(element, { center: options.center || [13.75, 100.5], zoom: options.zoom || 11, maxZoom: 19 });
  var url = element.dataset.tileUrl;
  if (url) {
    L.tileLayer(url, { maxZoom: 19, attribution: element.dataset.tileAttribution || "" }).addTo(map);
  }
  return map;
};
window.civicloopDistricts = function (map, done) {
  fetch("/api/v1/districts", { headers: { Accept: "application/geo+json, application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data || !data.features || !data.features.length) { if (done) { done(null); } return; }
      var layer = L.geoJSON(data, {
        className: "district",
        style: { color: "#0b5394", weight: 2, fill: true, fillOpacity: 0.04 }
      }).addTo(map);
      if (done) { done(layer); }
    })
    .catch(function () { if (done) { done(null); } });
};
