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
  var clusters = L.markerClusterGroup({chunkedLoading: true});
  map.addLayer(clusters);
  var first = true;

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
      clusters.clearLayers();
      status.textContent = "";
      return Promise.resolve();
    }
    status.textContent = cfg.labels.loading;
    return getJSON(cfg.pointsUrl + "?bbox=" + bbox()).then(function (data) {
      if (mine !== seq.subjects) { return; }
      clusters.clearLayers();
      var markers = data.rows.map(function (r) {
        var m = L.circleMarker([r[2], r[3]], {radius: 5, color: "#0b3d91", weight: 1, fillOpacity: 0.8});
        m.bindPopup(function () {
          var div = document.createElement("div");
          div.textContent = r[1] + " · " + (r[5] || "") + " / " + (r[4] || "");
          getJSON(cfg.subjectUrl.replace("{id}", r[0])).then(function (s) {
            div.innerHTML = "";
            [s.name, (s.major_category || "") + " / " + s.category_name, s.address, s.legal_representative + " " + s.contact_phone,
             s.licence_no || "", s.grid_name].forEach(function (line) {
              var p = document.createElement("div"); p.textContent = line; div.appendChild(p);
            });
          });
          return div;
        });
        return m;
      });
      clusters.addLayers(markers);
      status.textContent = data.rows.length + " " + cfg.labels.count + (data.truncated ? " · " + cfg.labels.truncated : "");
    }).catch(function (e) { if (mine === seq.subjects) { status.textContent = "⚠ " + e.message; } });
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
  document.getElementById("layers").addEventListener("change", refresh);
  map.on("moveend", refresh);
  refresh();
})();
