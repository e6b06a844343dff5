/* The public map: issues in view as clustered markers, the list beside it kept to the view,
   district boundaries from our own API. Without tiles (blocked, or none configured) the
   boundaries and markers still draw. */
"use strict";
(function () {
  var element = document.getElementById("issues-map");
  if (!element || !window.L) { return; }
  element.hidden = false;
  var map = window.civicloopMap(element, {});
  var clusters = L.markerClusterGroup ? L.markerClusterGroup() : L.layerGroup();
  clusters.addTo(map);
  var list = document.getElementById("issue-list");
  var report = document.getElementById("report-here");
  var lang = element.dataset.lang;

  function query(bounds) {
    var params = ["limit=200"];
    if (bounds) {
      params.push("bbox=" + [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
        .map(function (n) { return Math.max(-180, Math.min(180, n)).toFixed(6); }).join(","));
    }
    ["category", "status"].forEach(function (name) {
      if (element.dataset[name]) { params.push(name + "=" + encodeURIComponent(element.dataset[name])); }
    });
    if (element.dataset.createdAfter) { params.push("created_after=" + encodeURIComponent(element.dataset.createdAfter)); }
    return "/api/v1/issues?" + params.join("&");
  }

  function show(collection) {
    clusters.clearLayers();
    while (list.firstChild) { list.removeChild(list.firstChild); }
    collection.features.forEach(function (feature) {
      var c = feature.geometry.coordinates;
      var p = feature.properties;
      var href = "/issues/" + encodeURIComponent(p.id) + "?lang=" + lang;
      var marker = L.circleMarker([c[1], c[0]], { radius: 8, className: "issue-marker status-" + p.status });
      var link = document.createElement("a");
      link.href = href;
      link.textContent = p.title;
      marker.bindPopup(link);
      marker.options.title = p.title;
      clusters.addLayer(marker);
      var item = document.createElement("li");
      item.dataset.id = p.id;
      var itemLink = document.createElement("a");
      itemLink.href = href;
      itemLink.textContent = p.title;
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = p.category.name + " · " + p.status_label;
      item.appendChild(itemLink);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(meta);
      list.appendChild(item);
    });
    element.dataset.markers = String(collection.features.length);
  }

  function load(bounds) {
    fetch(query(bounds), { headers: { Accept: "application/geo+json", "Accept-Language": lang } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () {});
  }

  var ready = false;
  map.on("moveend", function () {
    if (!ready) { return; }
    load(map.getBounds());
    var centre = map.getCenter();
    report.href = "/report?lang=" + lang + "&latitude=" + centre.lat.toFixed(6) + "&longitude=" + centre.lng.toFixed(6);
  });
  window.civicloopDistricts(map, function (layer) {
    // Not animated: the move ends before `ready`, so the first view is fetched once, not twice.
    if (layer) { map.fitBounds(layer.getBounds(), { animate: false }); element.dataset.districts = String(layer.getLayers().length); }
    ready = true;
    load(layer ? map.getBounds() : null);
  });
})();
