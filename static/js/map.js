// The registry map: boundaries by level and clustered subjects, loaded for the visible box only.
// Works with no tile server: the boundaries draw on a plain background.
(function () {
  "use strict";
  var cfg = window.MAP_CONFIG;
  var map = L.map("map", {preferCanvas: true}).setView([30.30, 120.15], 13);
  if (cfg.tileUrl) { L.tileLayer(cfg.tileUrl, {maxZoom: 19}).addTo(map); }
  var status = document.getElementById("map-status");
  var styles = {
    street: {color: "#0b3d91", weight: 3, fill: false},
    community: {color: "#2a7ab0", weight: 2, fill: false, dashArray: "6 4"},
    grid: {color: "#6b8e23", weight: 1, fillOpacity: 0.03},
    zone: {color: "#c0392b", weight: 2, fillOpacity: 0.06}
  };
  var layers = {};
  var clusters = L.markerClusterGroup({chunkedLoading: true});
  map.addLayer(clusters);
  var first = true;

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
    return getJSON(cfg.areasUrl + "?kind=" + kind + (wantAll ? "" : "&bbox=" + bbox())).then(function (fc) {
      if (layers[kind]) { map.removeLayer(layers[kind]); }
      layers[kind] = L.geoJSON(fc, {
        style: styles[kind],
        onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name + " (" + f.properties.code + ")"); }
      }).addTo(map);
      if (first && kind === "street" && fc.features.length) {
        first = false;
        map.fitBounds(layers[kind].getBounds());
      }
    });
  }
  function loadSubjects() {
    clusters.clearLayers();
    if (!document.getElementById("show-subjects").checked) { return Promise.resolve(); }
    status.textContent = cfg.labels.loading;
    return getJSON(cfg.pointsUrl + "?bbox=" + bbox()).then(function (data) {
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
    }).catch(function (e) { status.textContent = "⚠ " + e.message; });
  }
  function refresh() {
    document.querySelectorAll("#layers input[data-kind]").forEach(function (box) {
      var kind = box.getAttribute("data-kind");
      if (box.checked) { loadAreas(kind); } else if (layers[kind]) { map.removeLayer(layers[kind]); delete layers[kind]; }
    });
    loadSubjects();
  }
  document.getElementById("layers").addEventListener("change", refresh);
  map.on("moveend", refresh);
  refresh();
})();
