/* The report form's enhancements: pick the point on a map or from the device's location, offer
   only the categories handled at that point, show the chosen category's questions at once (and
   an emergency stop as soon as it is chosen), resize photos before upload, send once. The form
   works without any of it. */
"use strict";
(function () {
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var lat = document.getElementById("latitude");
  var lon = document.getElementById("longitude");
  var category = document.getElementById("category");
  var allOptions = Array.prototype.slice.call(category.options, 1).map(function (o) {
    return { value: o.value, text: o.text };
  });

  function offerCategories() {
    if (!lat.value || !lon.value) { return; }
    var url = "/api/v1/categories?lat=" + encodeURIComponent(lat.value) + "&lon=" + encodeURIComponent(lon.value);
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (offered) {
        if (!offered) { return; }  // this server does not filter by point: every category stays
        var codes = offered.map(function (c) { return c.code; });
        var chosen = category.value;
        while (category.options.length > 1) { category.remove(1); }
        allOptions.forEach(function (o) {
          if (codes.indexOf(o.value) >= 0) { category.add(new Option(o.text, o.value, false, o.value === chosen)); }
        });
        if (category.value !== chosen) { showQuestions(); }
      })
      .catch(function () {});
  }

  // The questions come from the server, rendered as the form without JavaScript shows them.
  var send = document.getElementById("send");
  document.getElementById("show-questions").hidden = true;
  function questionsOf(html) {
    return new DOMParser().parseFromString(html, "text/html").getElementById("questions");
  }
  function swapQuestions(fresh) {
    document.getElementById("questions").replaceWith(document.importNode(fresh, true));
    send.hidden = !!document.getElementById("emergency");
  }
  function showQuestions() {
    var query = new URLSearchParams({ lang: document.documentElement.lang, category: category.value, latitude: lat.value, longitude: lon.value });
    fetch("/report?" + query.toString(), { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var fresh = html && questionsOf(html);
        if (!fresh) { return; }
        swapQuestions(fresh);
        if (fresh.dataset.emergency) { checkEmergency(); }  // an emergency category
      })
      .catch(function () {});
  }
  // An emergency is the server's to stop (it counts each stop): the form is posted back for its
  // questions and the answer says whom to call.
  function checkEmergency() {
    var data = new FormData(form);
    data.delete("photo");
    data.set("step", "questions");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = questionsOf(html);
        if (fresh && fresh.querySelector("#emergency")) { swapQuestions(fresh); }
      })
      .catch(function () {});
  }
  category.addEventListener("change", showQuestions);
  form.addEventListener("change", function (e) {
    if (!e.target.closest || !e.target.closest("#questions")) { return; }
    if (form.querySelector("#questions input[data-emergency]:checked")) { checkEmergency(); return; }
    var stop = document.getElementById("emergency");
    if (stop && !document.getElementById("questions").dataset.emergency) { stop.remove(); send.hidden = false; }
  });

  var mapElement = document.getElementById("report-map");
  var marker = null;
  function place(latlng, map) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    if (map) {
      if (marker) { marker.setLatLng(latlng); } else { marker = L.circleMarker(latlng, { radius: 9, color: "#b45309" }).addTo(map); }
    }
    offerCategories();
  }
  var map = null;
  if (window.L && mapElement) {
    mapElement.hidden = false;
    var start = lat.value && lon.value ? [parseFloat(lat.value), parseFloat(lon.value)] : null;
    map = window.civicloopMap(mapElement, { center: start || undefined, zoom: start ? 16 : 11 });
    if (start) { place(L.latLng(start[0], start[1]), map); }
    map.on("click", function (e) { place(e.latlng, map); });
    window.civicloopDistricts(map, function (layer) { if (layer && !start) { map.fitBounds(layer.getBounds()); } });
  }
  lat.addEventListener("change", offerCategories);
  lon.addEventListener("change", offerCategories);

  var locate = document.getElementById("locate");
  if (navigator.geolocation && locate) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        var here = L.latLng(p.coords.latitude, p.coords.longitude);
        place(here, map);
        if (map) { map.setView(here, 16); }
      });
    });
  }

  // Photos: scaled down to the size the server keeps anyway, as JPEG, before they are sent.
  var input = document.getElementById("photo");
  var maxPx = parseInt(form.dataset.displayPx, 10) || 1600;
  var pending = 0;
  function resize(file) {
    return new Promise(function (resolve) {
      if (!window.createImageBitmap || !/^image\/(jpeg|png|webp)$/.test(file.type)) { resolve(file); return; }
      createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, maxPx / Math.max(bitmap.width, bitmap.height));
        if (scale === 1 && file.type === "image/jpeg") { resolve(file); return; }
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          resolve(blob ? new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }) : file);
        }, "image/jpeg", 0.85);
      }).catch(function () { resolve(file); });
    });
  }
  if (input && window.DataTransfer) {
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files);
      pending += 1;
      Promise.all(files.map(resize)).then(function (resized) {
        var transfer = new DataTransfer();
        resized.forEach(function (f) { transfer.items.add(f); });
        input.files = transfer.files;
        form.dataset.resized = String(resized.length);
        pending -= 1;
      });
    });
  }

  // One report per rendering: the second click of a double click sends nothing.
  var sent = false;
  form.addEventListener("submit", function (e) {
    if (sent || pending > 0) { e.preventDefault(); return; }
    sent = true;
    document.getElementById("send").setAttribute("aria-disabled", "true");
  });
})();
