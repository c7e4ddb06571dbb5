// rainforest workbench: the map (templates/_map.html), drawn with the vendored Leaflet from
// /api/ecosystems/<slug>/map. Tiles only from the server given to `rainforest serve --tiles`.
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || !window.L) { return; }
  var L = window.L;
  var src = box.getAttribute("data-map-src");
  var csrf = box.getAttribute("data-csrf");
  var status = document.getElementById("map-status");
  var MANY = 300;  // firms beyond which they are drawn as dots, named on hover
  var map = L.map(box, {zoomSnap: 0.25, worldCopyJump: false});
  var dots = L.canvas();  // many firms: one canvas, not thousands of SVG elements
  L.control.scale({imperial: false, maxWidth: 160}).addTo(map);
  var layers = L.layerGroup().addTo(map);
  var tiles = null;
  var data = null;
  var pending = null;  // the marker of a place chosen and not saved yet

  function text(id, value) { document.getElementById(id).textContent = value; }
  function num(x) {
    if (x === null || x === undefined) { return "quantity not given"; }
    return Number(x).toLocaleString("en", {maximumSignificantDigits: 4});
  }
  function names() {
    var out = {};
    data.actors.forEach(function (a) { out[a.id] = a.name; });
    return out;
  }

  function draw() {
    layers.clearLayers();
    var where = {};
    var named = names();
    data.actors.forEach(function (a) { where[a.id] = [a.lat, a.lon]; });
    if (data.tiles && !tiles) {
      tiles = L.tileLayer(data.tiles.url, {attribution: data.tiles.attribution, maxZoom: 19}).addTo(map);
    }
    box.classList.toggle("plain", !data.tiles);
    document.getElementById("map-tiles").hidden = Boolean(data.tiles);
    var r = data.radius;
    if (r.km !== null) {
      L.circle([r.centre.lat, r.centre.lon], {radius: r.km * 1000, color: "#43a047", weight: 2, dashArray: "6 6",
        fillColor: "#43a047", fillOpacity: 0.08, interactive: false}).addTo(layers);
      text("map-radius", r.label);
    } else {
      text("map-radius", "Cluster radius: " + r.reason);
    }
    data.candidates.forEach(function (c) {
      var style = c.planned ? {color: "#e65100", weight: 3, dashArray: "8 6", opacity: 0.9}
        : {color: "#6a1b9a", weight: 2, dashArray: "2 6", opacity: 0.85};
      L.polyline([where[c.from], where[c.to]], style).addTo(layers).bindTooltip(
        (c.planned ? "in the optimised plan: " : "candidate: ") + named[c.from] + " \u2192 " + named[c.to] +
        ", " + c.resource + (c.upper !== null ? ", up to " + num(c.upper) + " " + c.unit + " per period" : ""));
    });
    data.flows.forEach(function (f) {
      L.polyline([where[f.from], where[f.to]], {color: "#2e7d32", weight: 4, opacity: 0.85}).addTo(layers).bindTooltip(
        "today: " + named[f.from] + " \u2192 " + named[f.to] + ", " + f.resource + ", " + num(f.quantity) + " " + f.unit + " per period");
    });
    var many = data.actors.length > MANY;  // then dots named on hover: pins and labels would hide the map
    data.actors.forEach(function (a) {
      var label = a.name.length > 40 ? a.name.slice(0, 38) + "\u2026" : a.name;
      if (many) {
        L.circleMarker([a.lat, a.lon], {renderer: dots, radius: 4, color: "#1565c0", weight: 1, fillOpacity: 0.8}).addTo(layers)
          .bindTooltip(a.name + " (" + a.id + ")");
        return;
      }
      L.marker([a.lat, a.lon], {title: a.name + " (" + a.id + ")", alt: a.name}).addTo(layers)
        .bindTooltip(label, {permanent: true, direction: "right", className: "map-label"});
    });
    var unplaced = document.getElementById("map-unplaced");
    unplaced.hidden = data.unplaced.length === 0;
    unplaced.textContent = data.unplaced.length ? data.unplaced_label + ": " +
      data.unplaced.map(function (a) { return a.name; }).join(", ") : "";
    text("map-counts", data.actors.length + " firm(s) on the map; " + data.flows.length + " exchange(s) today" +
      (data.flows_not_drawn ? " (" + data.flows_not_drawn + " smaller ones not drawn)" : "") + ", " +
      data.candidates.length + " candidate(s)" +
      (data.candidates_off_map ? " (" + data.candidates_off_map + " more with a partner not on the map, not drawn)" : "") +
      (data.plan_version ? ", the plan of version " + data.plan_version : "") +
      ". Hover a line for what it carries.");
    fit();
    form();
  }

  function fit() {
    var points = data.actors.map(function (a) { return [a.lat, a.lon]; });
    var r = data.radius;
    if (r.km !== null) {
      var b = L.latLng(r.centre.lat, r.centre.lon).toBounds(r.km * 2000);
      points.push(b.getSouthWest(), b.getNorthEast());
    }
    if (points.length === 0) {
      map.setView([20, 0], 2);  // nothing placed yet: the whole world, to place the first firm
    } else if (points.length === 1) {
      map.setView(points[0], 13);
    } else {
      // room above for the pins and to the right for their names
      map.fitBounds(L.latLngBounds(points), {paddingTopLeft: [30, 60], paddingBottomRight: [120, 20], maxZoom: 15});
    }
  }

  function form() {
    var f = document.getElementById("map-place");
    f.hidden = data.may_place.length === 0;
    box.classList.toggle("placing", !f.hidden);
    if (f.hidden) { return; }
    var select = document.getElementById("map-actor");
    var chosen = select.value || data.focus || (data.unplaced[0] && data.may_place.indexOf(data.unplaced[0].id) >= 0 ? data.unplaced[0].id : data.may_place[0]);
    select.textContent = "";
    var placed = {};
    data.actors.forEach(function (a) { placed[a.id] = true; });
    data.may_place.forEach(function (id) {
      var o = document.createElement("option");
      o.value = id;
      o.textContent = data.names[id] + (placed[id] ? "" : " (not placed yet)");
      select.appendChild(o);
    });
    select.value = chosen;
  }

  function field(id) { return document.getElementById(id); }

  function mark(lat, lon) {
    // the place chosen, not saved yet: a red ring
    if (pending) { map.removeLayer(pending); }
    pending = L.circleMarker([lat, lon], {radius: 9, color: "#c62828", weight: 3, interactive: false}).addTo(map);
  }

  function clear() {
    if (pending) { map.removeLayer(pending); pending = null; }
    field("map-lat").value = "";
    field("map-lon").value = "";
  }

  function load(then) {
    fetch(src, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : r.json().then(function (e) { throw new Error(e.detail || e.error); }); })
      .then(function (d) { data = d; draw(); if (then) { then(); } })
      .catch(function (e) { status.textContent = "The map could not be loaded: " + e.message; });
  }

  map.on("click", function (e) {
    if (!data || data.may_place.length === 0) { return; }
    var ll = e.latlng.wrap();
    field("map-lat").value = ll.lat.toFixed(5);
    field("map-lon").value = ll.lng.toFixed(5);
    mark(ll.lat, ll.lng);
    status.textContent = "Save to place " + data.names[field("map-actor").value] + " at " + ll.lat.toFixed(5) + ", " +
      ll.lng.toFixed(5) + ", or click elsewhere.";
  });
  ["map-lat", "map-lon"].forEach(function (id) {
    field(id).addEventListener("change", function () {
      var lat = parseFloat(field("map-lat").value), lon = parseFloat(field("map-lon").value);
      if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
        mark(lat, lon);
        map.setView([lat, lon], Math.max(map.getZoom(), 12));
      }
    });
  });
  field("map-cancel").addEventListener("click", function () {
    clear();
    status.textContent = "Nothing was changed.";
  });
  field("map-place").addEventListener("submit", function (e) {
    e.preventDefault();
    var id = field("map-actor").value;
    var lat = parseFloat(field("map-lat").value), lon = parseFloat(field("map-lon").value);
    if (!isFinite(lat) || !isFinite(lon)) {
      status.textContent = "Click the map where " + data.names[id] + " is, or type its latitude and longitude.";
      return;
    }
    fetch("/api/ecosystems/" + encodeURIComponent(data.ecosystem) + "/actors/" + encodeURIComponent(id) + "/location", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({lat: lat, lon: lon, expected: data.version, message: field("map-message").value})
    }).then(function (r) {
      return r.json().then(function (body) { return {ok: r.ok, code: r.status, body: body}; });
    }).then(function (answer) {
      if (answer.ok) {
        var v = answer.body;
        clear();
        field("map-message").value = "";
        load(function () {
          status.textContent = "Saved as version " + v.number + " by " + v.author + ": " + v.message + ".";
        });
      } else if (answer.code === 409) {
        clear();
        load(function () {
          status.textContent = "Someone saved a newer version meanwhile; the map now shows it: place the firm again. (" + answer.body.error + ")";
        });
      } else {
        status.textContent = "Not saved: " + (answer.body.error || answer.body.detail);
      }
    });
  });
  load();
})();
