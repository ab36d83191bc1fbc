// The registry map (/map/): boundaries by level and clustered subjects, loaded for the visible box only.
// With no tile server (MAP_TILE_URL empty) it draws the offline vector base map under the boundaries.
import {addBaseLayer} from "./basemap.js";
import {bbox, creditColours, getJSON, readConfig, subjectCount} from "./common.js";
import {clusterIcon, creditMarkerStyle} from "./palette.js";

const cfg = readConfig("map-config");
const T = cfg.messages;
// maxZoom on the map itself: with no tile layer nothing else sets it, and the cluster layer needs it.
const map = L.map("map", {preferCanvas: true, maxZoom: 19}).setView([30.30, 120.15], 13);
addBaseLayer(map, cfg);
const status = document.getElementById("map-status");
const styles = {
  street: {color: "#0b3d91", weight: 3, fill: false},
  community: {color: "#2a7ab0", weight: 2, fill: false, dashArray: "6 4"},
  grid: {color: "#6b8e23", weight: 1, fillOpacity: 0.03},
  zone: {color: "#c0392b", weight: 2, fillOpacity: 0.06}
};
const layers = {};
const loaded = {};   // street and zone layers are loaded whole, once
const seq = {};      // the newest request per layer: an older answer arriving late is dropped
// Credit colours (red/yellow/green) come from the credit app's endpoint, not from the registry's
// points: the registry knows nothing of credit. A subject without a score is drawn plain.
const clusters = L.markerClusterGroup({chunkedLoading: true, iconCreateFunction: clusterIcon(T.subjectCluster)});
map.addLayer(clusters);
let first = true;
let last = null;   // the last {data, colorOf} loaded for the visible box

function nextSeq(key) { seq[key] = (seq[key] || 0) + 1; return seq[key]; }
function textNode(text) {
  // Names come from the database: always as text, never as HTML.
  const span = document.createElement("span");
  span.textContent = text;
  return span;
}

function loadAreas(kind) {
  const wantAll = kind === "street" || kind === "zone";
  if (wantAll && loaded[kind] && layers[kind]) {
    if (!map.hasLayer(layers[kind])) { layers[kind].addTo(map); }
    return Promise.resolve();
  }
  const mine = nextSeq(kind);
  return getJSON(cfg.areasUrl + "?kind=" + kind + (wantAll ? "" : "&bbox=" + bbox(map))).then((fc) => {
    if (mine !== seq[kind]) { return; }
    if (!document.querySelector('#layers input[data-kind="' + kind + '"]').checked) { return; }
    if (layers[kind]) { map.removeLayer(layers[kind]); }
    layers[kind] = L.geoJSON(fc, {
      style: styles[kind],
      onEachFeature: (f, layer) => { layer.bindTooltip(textNode(f.properties.name + " (" + f.properties.code + ")")); }
    }).addTo(map);
    loaded[kind] = wantAll;
    if (first && kind === "street" && fc.features.length) {
      first = false;
      map.fitBounds(layers[kind].getBounds());
    }
  });
}
function loadSubjects() {
  const mine = nextSeq("subjects");
  if (!document.getElementById("show-subjects").checked) {
    last = null;
    clusters.clearLayers();
    status.textContent = "";
    return Promise.resolve();
  }
  status.textContent = T.loading;
  const box = bbox(map);
  return Promise.all([getJSON(cfg.pointsUrl + "?bbox=" + box), creditColours(cfg.colorsUrl, box)]).then((both) => {
    if (mine !== seq.subjects) { return; }
    last = {data: both[0], colorOf: both[1]};
    drawSubjects();
  }).catch((e) => { if (mine === seq.subjects) { status.textContent = "⚠ " + e.message; } });
}
function drawSubjects() {
  // Draws the last answer through the colour filter: ticking a colour needs no new request.
  if (!last) { return; }
  const data = last.data, colorOf = last.colorOf;
  clusters.clearLayers();
  const wanted = shownColors();
  const rows = data.rows.filter((r) => wanted[colorOf[r[0]] || "none"]);
  const markers = rows.map((r) => {
    const credit = colorOf[r[0]] || "none";
    const m = L.circleMarker([r[2], r[3]], Object.assign(creditMarkerStyle(credit), {radius: 5, fillOpacity: 0.85}));
    m.bindPopup(() => {
      const div = document.createElement("div");
      div.textContent = r[1] + " · " + (r[5] || "") + " / " + (r[4] || "");
      getJSON(cfg.subjectUrl.replace("{id}", r[0])).then((s) => {
        div.innerHTML = "";
        [s.name, (s.major_category || "") + " / " + s.category_name, s.address, s.legal_representative + " " + s.contact_phone,
         s.licence_no || "", s.grid_name, T.credit + ": " + (T.creditColors[credit] || "")].forEach((line) => {
          const p = document.createElement("div"); p.textContent = line; div.appendChild(p);
        });
        if (cfg.fileUrl) {  // the subject's file (一户一档)
          const a = document.createElement("a"); a.href = cfg.fileUrl.replace("{id}", r[0]); a.textContent = T.subjectFile;
          div.appendChild(a);
        }
      });
      return div;
    });
    return m;
  });
  clusters.addLayers(markers);
  status.textContent = subjectCount({rows, truncated: data.truncated}, T);
}
function shownColors() {
  // The colour filter: which of red / yellow / green / no score are shown (all when the panel has none).
  const out = {red: true, yellow: true, green: true, none: true};
  document.querySelectorAll("#layers input[data-color]").forEach((b) => { out[b.getAttribute("data-color")] = b.checked; });
  return out;
}
function refresh() {
  document.querySelectorAll("#layers input[data-kind]").forEach((box) => {
    const kind = box.getAttribute("data-kind");
    if (box.checked) {
      loadAreas(kind).catch((e) => { status.textContent = "⚠ " + e.message; });
    } else if (layers[kind]) {
      nextSeq(kind);  // a request still under way must not bring the layer back
      map.removeLayer(layers[kind]);
      if (!loaded[kind]) { delete layers[kind]; }
    }
  });
  loadSubjects();
}
document.getElementById("layers").addEventListener("change", (e) => {
  if (e.target.hasAttribute("data-color")) { drawSubjects(); } else { refresh(); }
});
map.on("moveend", refresh);
refresh();
