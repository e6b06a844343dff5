/* The public map: issues in view as clustered markers, the list beside it kept to the view,
   district boundaries from our own API. Without tiles (blocked, or none configured) the
   boundaries and markers still draw. The first view draws the list the page came with (one
   round trip less on a slow network); each later view is fetched. */
(function () {
  "use strict";
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
    params.push("bbox=" + [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
      .map(function (n) { return Math.max(-180, Math.min(180, n)).toFixed(6); }).join(","));
    ["category", "status"].forEach(function (name) {
      if (element.dataset[name]) { params.push(name + "=" + encodeURIComponent(element.dataset[name])); }
    });
    if (element.dataset.createdAfter) { params.push("created_after=" + encodeURIComponent(element.dataset.createdAfter)); }
    return "/api/v1/issues?" + params.join("&");
  }

  function mark(lat, lon, status, link) {
    var marker = L.circleMarker([lat, lon], { radius: 8, className: "issue-marker status-" + status });
    marker.bindPopup(link);
    marker.options.title = link.textContent;
    clusters.addLayer(marker);
  }

  function showList() {
    clusters.clearLayers();
    var items = list.querySelectorAll("li[data-lat]");
    Array.prototype.forEach.call(items, function (item) {
      mark(Number(item.dataset.lat), Number(item.dataset.lon), item.dataset.status,
        item.querySelector("a").cloneNode(true));
    });
    element.dataset.markers = String(items.length);
  }

  function show(collection) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    collection.features.forEach(function (feature) {
      var c = feature.geometry.coordinates;
      var p = feature.properties;
      var item = document.createElement("li");
      item.dataset.id = p.id;
      item.dataset.lon = String(c[0]);
      item.dataset.lat = String(c[1]);
      item.dataset.status = p.status;
      var link = document.createElement("a");
      link.href = "/issues/" + encodeURIComponent(p.id) + "?lang=" + lang;
      link.textContent = p.title;
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = p.category.name + " · " + p.status_label;
      item.appendChild(link);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(meta);
      list.appendChild(item);
    });
    showList();
  }

  function load(bounds) {
    fetch(query(bounds), { headers: { Accept: "application/geo+json", "Accept-Language": lang } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () {});
  }

  showList();
  var ready = false;
  map.on("moveend", function () {
    if (!ready) { return; }
    load(map.getBounds());
    var centre = map.getCenter();
    report.href = "/report?lang=" + lang + "&latitude=" + centre.lat.toFixed(6) + "&longitude=" + centre.lng.toFixed(6);
  });
  window.civicloopDistricts(map, function (layer) {
    // Not animated: the move ends before `ready`, so the first view is not fetched again.
    if (layer) { map.fitBounds(layer.getBounds(), { animate: false }); element.dataset.districts = String(layer.getLayers().length); }
    ready = true;
  });
})();
