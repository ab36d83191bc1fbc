// The registry map: boundaries by level and clustered subjects, loaded for the visible box only.
// Works with no tile server: the boundaries draw on a plain background.
(function () {
  "use strict";
  var cfg = window.MAP_CONFIG;
  // maxZoom on the map itself: with no tile layer nothing else sets it, and the cluster layer needs it.
  var map = L.map("map", {preferCanvas: true, maxZoom: 19}).setView([30.30, 120.15], 13);
  if (cfg.tileUrl) { L.tileLayer(cfg.tileUrl, {maxZoom: 19}).addTo(map); }
  var status = document.getElementById("map-status");
  var styles = {
    street: {color: "#0b3d91", weight: 3, fill: false},
    community: {color: "#2a7ab0", weight: 2, fill: false, dashArray: "6 4"},
    grid: {color: "#6b8e23", weight: 1, fillOpacity: 0.03},
    zone: {color: "#c0392b", weight: 2, fillOpacity: 0.06}
  };
  var layers = {};
  var loaded = {};   // street and zone layers are loaded whole, once
  var seq = {};      // the newest request per layer: an older answer arriving late is dropped
  // Credit colours (red/yellow/green) come from the credit app's endpoint, not from the registry's
  // points: the registry knows nothing of credit. A subject without a score is drawn plain.
  var creditStyle = {
    red: {color: "#8e1b10", fillColor: "#e53935"},
    yellow: {color: "#8a6d00", fillColor: "#fbc02d"},
    green: {color: "#1b5e20", fillColor: "#43a047"},
    none: {color: "#0b3d91", fillColor: "#0b3d91"}
  };
  var clusters = L.markerClusterGroup({chunkedLoading: true});
  map.addLayer(clusters);
  var first = true;
  var last = null;   // the last {data, colorOf} loaded for the visible box

  function nextSeq(key) { seq[key] = (seq[key] || 0) + 1; return seq[key]; }
  function textNode(text) {
    // Names come from the database: always as text, never as HTML.
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function bbox() {
    var b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
  }
  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    });
  }
  function loadAreas(kind) {
    var wantAll = kind === "street" || kind === "zone";
    if (wantAll && loaded[kind] && layers[kind]) {
      if (!map.hasLayer(layers[kind])) { layers[kind].addTo(map); }
      return Promise.resolve();
    }
    var mine = nextSeq(kind);
    return getJSON(cfg.areasUrl + "?kind=" + kind + (wantAll ? "" : "&bbox=" + bbox())).then(function (fc) {
      if (mine !== seq[kind]) { return; }
      if (!document.querySelector('#layers input[data-kind="' + kind + '"]').checked) { return; }
      if (layers[kind]) { map.removeLayer(layers[kind]); }
      layers[kind] = L.geoJSON(fc, {
        style: styles[kind],
        onEachFeature: function (f, layer) {
          layer.bindTooltip(textNode(f.properties.name + " (" + f.properties.code + ")"));
        }
      }).addTo(map);
      loaded[kind] = wantAll;
      if (first && kind === "street" && fc.features.length) {
        first = false;
        map.fitBounds(layers[kind].getBounds());
      }
    });
  }
  function loadSubjects() {
    var mine = nextSeq("subjects");
    if (!document.getElementById("show-subjects").checked) {
      last = null;
      clusters.clearLayers();
      status.textContent = "";
      return Promise.resolve();
    }
    status.textContent = cfg.labels.loading;
    var box = bbox();
    // The colours are an overlay: if they can't be had, the subjects still show, plain.
    var colors = cfg.colorsUrl ? getJSON(cfg.colorsUrl + "?bbox=" + box).then(function (c) { return c.colors; },
                                                                        function () { return {}; }) : Promise.resolve({});
    return Promise.all([getJSON(cfg.pointsUrl + "?bbox=" + box), colors]).then(function (both) {
      if (mine !== seq.subjects) { return; }
      last = {data: both[0], colorOf: both[1]};
      drawSubjects();
    }).catch(function (e) { if (mine === seq.subjects) { status.textContent = "⚠ " + e.message; } });
  }
  function drawSubjects() {
    // Draws the last answer through the colour filter: ticking a colour needs no new request.
    if (!last) { return; }
    var data = last.data, colorOf = last.colorOf;
    clusters.clearLayers();
    var wanted = shownColors();
    var rows = data.rows.filter(function (r) { return wanted[colorOf[r[0]] || "none"]; });
    var markers = rows.map(function (r) {
      var credit = colorOf[r[0]] || "none";
      var look = creditStyle[credit] || creditStyle.none;
      var m = L.circleMarker([r[2], r[3]], {radius: 5, color: look.color, fillColor: look.fillColor, weight: 1, fillOpacity: 0.85});
      m.bindPopup(function () {
        var div = document.createElement("div");
        div.textContent = r[1] + " · " + (r[5] || "") + " / " + (r[4] || "");
        getJSON(cfg.subjectUrl.replace("{id}", r[0])).then(function (s) {
          div.innerHTML = "";
          [s.name, (s.major_category || "") + " / " + s.category_name, s.address, s.legal_representative + " " + s.contact_phone,
           s.licence_no || "", s.grid_name, cfg.labels.credit + ": " + (cfg.colorLabels[credit] || "")].forEach(function (line) {
            var p = document.createElement("div"); p.textContent = line; div.appendChild(p);
          });
        });
        return div;
      });
      return m;
    });
    clusters.addLayers(markers);
    status.textContent = rows.length + " " + cfg.labels.count + (data.truncated ? " · " + cfg.labels.truncated : "");
  }
  function shownColors() {
    // The colour filter: which of red / yellow / green / no score are shown (all when the panel has none).
    var boxes = document.querySelectorAll("#layers input[data-color]");
    var out = {red: true, yellow: true, green: true, none: true};
    boxes.forEach(function (b) { out[b.getAttribute("data-color")] = b.checked; });
    return out;
  }
  function refresh() {
    document.querySelectorAll("#layers input[data-kind]").forEach(function (box) {
      var kind = box.getAttribute("data-kind");
      if (box.checked) {
        loadAreas(kind).catch(function (e) { status.textContent = "⚠ " + e.message; });
      } else if (layers[kind]) {
        nextSeq(kind);  // a request still under way must not bring the layer back
        map.removeLayer(layers[kind]);
        if (!loaded[kind]) { delete layers[kind]; }
      }
    });
    loadSubjects();
  }
  document.getElementById("layers").addEventListener("change", function (e) {
    if (e.target.hasAttribute("data-color")) { drawSubjects(); } else { refresh(); }
  });
  map.on("moveend", refresh);
  refresh();
})();
