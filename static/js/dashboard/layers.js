// The dashboard's map: events coloured by severity, officers by duty status (with a heading tick),
// street and grid boundaries, and the subjects in view, clustered and coloured by credit.
import {addBaseLayer} from "../basemap.js";
import {bbox, creditColours, el, getAllPages, getJSON, subjectCount} from "../common.js";
import {SEVERITY_SHAPE, clusterIcon, creditMarkerStyle, palette} from "../palette.js";
import {SCREEN, T, cfg, events, isOverdue, matches, officers, page, state, stats} from "./store.js";

export const map = L.map("cc-map", {preferCanvas: true, maxZoom: 19, zoomControl: !SCREEN}).setView([30.30, 120.15], 13);
addBaseLayer(map, cfg);
const renderer = L.canvas({padding: 0.3});
const eventLayer = L.layerGroup().addTo(map);
const officerLayer = L.layerGroup().addTo(map);
const subjectLayer = L.markerClusterGroup({chunkedLoading: true, disableClusteringAtZoom: 18,
                                           iconCreateFunction: clusterIcon(T.subjectCluster)});
export const boundaryLayers = {};
export const eventMarkers = new Map(), headingLines = new Map();
const officerMarkers = new Map();
const mapStatus = document.getElementById("cc-map-status");

// An event's marker: its severity's colour AND shape (▲ red, ◆ orange, ■ yellow, ▼ blue: colour is never
// the only cue), outlined in the theme's marker stroke, a thick outline once overdue. Drawn on the canvas.
const SevMarker = L.CircleMarker.extend({
  // The shapes reach past the radius: the canvas redraws (and clears) this box.
  _updateBounds: function () {
    var r = this._radius * 1.3 + this._clickTolerance() + 2;
    this._pxBounds = new L.Bounds(this._point.subtract([r, r]), this._point.add([r, r]));
  },
  _updatePath: function () {
    var r = this._renderer;
    if (!r._drawing || this._empty()) { return; }
    var ctx = r._ctx, p = this._point, s = Math.max(Math.round(this._radius), 1);
    ctx.beginPath();
    switch (this.options.shape) {
      case "triangle": ctx.moveTo(p.x, p.y - s * 1.25); ctx.lineTo(p.x + s * 1.15, p.y + s * 0.85); ctx.lineTo(p.x - s * 1.15, p.y + s * 0.85); break;
      case "diamond": ctx.moveTo(p.x, p.y - s * 1.2); ctx.lineTo(p.x + s * 1.2, p.y); ctx.lineTo(p.x, p.y + s * 1.2); ctx.lineTo(p.x - s * 1.2, p.y); break;
      case "square": ctx.rect(p.x - s * 0.9, p.y - s * 0.9, s * 1.8, s * 1.8); break;
      case "down": ctx.moveTo(p.x - s * 1.15, p.y - s * 0.85); ctx.lineTo(p.x + s * 1.15, p.y - s * 0.85); ctx.lineTo(p.x, p.y + s * 1.25); break;
      default: ctx.arc(p.x, p.y, s, 0, Math.PI * 2, false);
    }
    ctx.closePath();
    r._fillStroke(ctx, this);
  }
});
function eventStyle(row, now) {
  var late = isOverdue(row, now), stroke = palette().marker.stroke;
  return {renderer: renderer, radius: late ? 8 : (row.severity === "red" ? 7 : 6), color: stroke,
          weight: late ? 3.5 : 1.5, fillColor: palette().severity[row.severity] || "#888", fillOpacity: 1,
          shape: SEVERITY_SHAPE[row.severity]};
}
function dutyColour(o) { var duty = palette().duty; return duty[o.duty_status] || duty.unknown; }
function eventLabel(row) {
  return "#" + row.id + " " + (cfg.labels.severity[row.severity] || row.severity) + " · " +
    (row.problem_type_name || row.problem_type_code) + " · " + (cfg.labels.status[row.status] || row.status) +
    (isOverdue(row, Date.now()) ? " · " + T.overdue : "") + (row.address ? " · " + row.address : "");
}
export function syncEventMarker(id, now) {
  var row = events.get(id), m = eventMarkers.get(id);
  var show = row && matches(row);
  if (!show) {
    if (m) { eventLayer.removeLayer(m); eventMarkers.delete(id); }
    return;
  }
  if (!m) {
    m = new SevMarker([row.lat, row.lng], eventStyle(row, now));
    m.on("click", function () { page.open(id, false); });
    m.bindTooltip(function () { var r = events.get(id); return r ? el("span", "", eventLabel(r)) : ""; });
    eventMarkers.set(id, m);
    eventLayer.addLayer(m);
  } else {
    m.setLatLng([row.lat, row.lng]);
    m.setStyle(eventStyle(row, now));
  }
  m._late = isOverdue(row, now);
}
function officerLabel(o) {
  var parts = [o.name + " (" + o.badge_no + ")", cfg.labels.duty[o.duty_status] || o.duty_status];
  if (o.last_position_at) {
    var mins = Math.max(0, Math.round((Date.now() - Date.parse(o.last_position_at)) / 60000));
    parts.push(mins + " " + T.min + T.ago);
  }
  if (o.last_heading !== undefined && o.last_heading !== null) { parts.push(T.heading + " " + Math.round(o.last_heading) + "°"); }
  return parts.join(" · ");
}
export function syncOfficerMarker(id) {
  var o = officers.get(id), m = officerMarkers.get(id);
  var show = o && o.last_lat !== null && o.last_lng !== null && o.duty_status !== "off_duty";
  if (!show) {
    if (m) { officerLayer.removeLayer(m); officerMarkers.delete(id); }
    syncHeading(id, null);
    return;
  }
  // Older positions fade: a stale dot should not look like a live one.
  var age = o.last_position_at ? (Date.now() - Date.parse(o.last_position_at)) / 60000 : 999;
  var style = {renderer: renderer, radius: 5, color: palette().marker.stroke, weight: 1, fillColor: dutyColour(o),
               fillOpacity: age > 15 ? 0.35 : 0.9};
  if (!m) {
    m = L.circleMarker([o.last_lat, o.last_lng], style);
    m.bindTooltip(function () { var r = officers.get(id); return r ? el("span", "", officerLabel(r)) : ""; });
    officerMarkers.set(id, m);
    officerLayer.addLayer(m);
  } else {
    m.setLatLng([o.last_lat, o.last_lng]);
    m.setStyle(style);
  }
  syncHeading(id, o, style.fillOpacity);
}
// The heading: a short tick from the officer's dot the way they were moving (≈40 m on the ground).
function syncHeading(id, o, opacity) {
  var line = headingLines.get(id);
  var h = o && o.last_heading !== undefined && o.last_heading !== null && isFinite(o.last_heading) ? o.last_heading : null;
  if (h === null) {
    if (line) { officerLayer.removeLayer(line); headingLines.delete(id); }
    return;
  }
  var rad = h * Math.PI / 180, metres = 40;
  var tip = [o.last_lat + Math.cos(rad) * metres / 111320,
             o.last_lng + Math.sin(rad) * metres / (111320 * Math.cos(o.last_lat * Math.PI / 180))];
  var points = [[o.last_lat, o.last_lng], tip];
  var style = {renderer: renderer, color: dutyColour(o), weight: 3, opacity: opacity, interactive: false};
  if (!line) {
    line = L.polyline(points, style);
    headingLines.set(id, line);
    officerLayer.addLayer(line);
  } else {
    line.setLatLngs(points);
    line.setStyle(style);
  }
}

var boundaryStyles = SCREEN ? {street: {color: "#9fc3ff", weight: 2, fill: false}, grid: {color: "#6f8f4e", weight: 1, fill: false}}
                            : {street: {color: "#0b3d91", weight: 2, fill: false}, grid: {color: "#6b8e23", weight: 1, fill: false}};
var boundarySeq = {};
export function layerOn(name) {
  var box = document.querySelector('#cc-layers input[data-layer="' + name + '"]');
  return box ? box.checked : (name === "street" || name === "officers");
}
export function loadBoundary(kind) {
  if (!layerOn(kind)) {
    if (boundaryLayers[kind]) { map.removeLayer(boundaryLayers[kind]); if (kind !== "street") { delete boundaryLayers[kind]; } }
    return;
  }
  if (kind === "street" && boundaryLayers.street) { boundaryLayers.street.addTo(map); return; }
  var mine = boundarySeq[kind] = (boundarySeq[kind] || 0) + 1;
  getJSON(cfg.areasUrl + "?kind=" + kind + (kind === "street" ? "" : "&bbox=" + bbox(map))).then(function (fc) {
    if (mine !== boundarySeq[kind] || !layerOn(kind)) { return; }
    if (boundaryLayers[kind]) { map.removeLayer(boundaryLayers[kind]); }
    boundaryLayers[kind] = L.geoJSON(fc, {style: boundaryStyles[kind], interactive: false, renderer: renderer}).addTo(map);
    boundaryLayers[kind].bringToBack();
    // The district's streets frame the map: also after an early fit to the events (they may come first).
    if ((!state.fitted || state.fittedToEvents) && kind === "street" && fc.features.length) {
      state.fitted = true; state.fittedToEvents = false; map.fitBounds(boundaryLayers[kind].getBounds());
    }
  }).catch(function () { /* boundaries are decoration: the events still show */ });
}
// Until the street boundaries come, the map shows where the events are (once).
export function fitToEvents() {
  if (state.fitted || !events.size || boundaryLayers.street) { return; }
  state.fitted = true; state.fittedToEvents = true;
  map.fitBounds(L.latLngBounds(Array.from(events.values()).map(function (r) { return [r.lat, r.lng]; })), {maxZoom: 15});
}
// Subjects: only the visible box, clustered; coloured by credit when the credit app offers colours.
var subjectSeq = 0;
export function loadSubjects() {
  var mine = ++subjectSeq;
  if (!layerOn("subjects")) { map.removeLayer(subjectLayer); subjectLayer.clearLayers(); if (mapStatus) { mapStatus.textContent = ""; } return; }
  if (!map.hasLayer(subjectLayer)) { map.addLayer(subjectLayer); }
  var box = bbox(map);
  Promise.all([getJSON(cfg.pointsUrl + "?bbox=" + box), creditColours(cfg.creditColorsUrl, box)]).then(function (res) {
    if (mine !== subjectSeq) { return; }
    var data = res[0], colour = res[1];
    subjectLayer.clearLayers();
    subjectLayer.addLayers(data.rows.map(function (r) {
      var m = L.circleMarker([r[2], r[3]], Object.assign(creditMarkerStyle(colour[r[0]]), {renderer: renderer, radius: 4, fillOpacity: 0.8}));
      m.bindTooltip(function () { return el("span", "", r[1] + " · " + (r[4] || "")); });
      return m;
    }));
    if (mapStatus) { mapStatus.textContent = subjectCount(data, T); }
  }).catch(function (e) { if (mapStatus && mine === subjectSeq) { mapStatus.textContent = "⚠ " + e.message; } });
}
var moveTimer = null;
map.on("moveend", function () {
  if (!stats.readyAt) { return; }
  clearTimeout(moveTimer);
  moveTimer = setTimeout(function () { loadBoundary("grid"); loadSubjects(); }, 250);
});
var layersBox = document.getElementById("cc-layers");
if (layersBox) {
  layersBox.addEventListener("change", function (e) {
    var name = e.target.getAttribute("data-layer");
    if (name === "street" || name === "grid") { loadBoundary(name); }
    else if (name === "subjects") { loadSubjects(); }
    else if (name === "officers") { if (layerOn("officers")) { officerLayer.addTo(map); } else { map.removeLayer(officerLayer); } }
  });
}

// Today's inspection visits (GET /api/v1/inspections/?date=…&approved=true: those that reach the officers,
// in the user's streets): a hexagon with a tick — a shape of its own — filled once the visit is done.
// Keyboard-reachable markers named by their tooltip text. Reloaded when toggled and every five minutes.
const visitLayer = L.layerGroup();
const VISIT_SVG = '<svg viewBox="0 0 14 14" aria-hidden="true" focusable="false"><path d="M7 1 L12.2 4 L12.2 10 L7 13 L1.8 10 L1.8 4 Z"/>' +
                  '<path class="tick" d="M4.3 7.2 L6.2 9.1 L9.8 5"/></svg>';
export const visitMarkers = new Map();
function today() {
  // The district's day, whatever the desk's clock zone says (en-CA formats as YYYY-MM-DD).
  return new Intl.DateTimeFormat("en-CA", {timeZone: cfg.timeZone}).format(new Date());
}
function visitLabel(v) {
  var who = (v.officers || []).map(function (o) { return o.name; }).join("、");
  return T.visit + " · " + v.subject_name + " · " + (cfg.labels.visitStatus[v.status] || v.status) + (who ? " · " + who : "");
}
var visitSeq = 0;
export function loadVisits() {
  var mine = ++visitSeq;
  if (!cfg.visitsUrl || !layerOn("visits")) { map.removeLayer(visitLayer); visitLayer.clearLayers(); visitMarkers.clear(); return; }
  if (!map.hasLayer(visitLayer)) { map.addLayer(visitLayer); }
  getAllPages(cfg.visitsUrl + "?approved=true&page_size=500&date=" + today()).then(function (rows) {
    if (mine !== visitSeq) { return; }
    visitLayer.clearLayers(); visitMarkers.clear();
    rows.forEach(function (v) {
      var label = visitLabel(v);
      var icon = L.divIcon({className: "cc-visit" + (v.status === "completed" ? " done" : ""), html: VISIT_SVG,
                            iconSize: [20, 20], iconAnchor: [10, 10]});
      var m = L.marker([v.lat, v.lng], {icon: icon, title: label, keyboard: true, riseOnHover: true});
      m.bindTooltip(function () { return el("span", "", label); });
      visitMarkers.set(v.id, m);
      visitLayer.addLayer(m);
    });
  }).catch(function (e) { if (mapStatus && mine === visitSeq) { mapStatus.textContent = "⚠ " + e.message; } });
}
setInterval(function () { if (stats.readyAt) { loadVisits(); } }, 5 * 60 * 1000);
if (layersBox) {
  layersBox.addEventListener("change", function (e) {
    if (e.target.getAttribute("data-layer") === "visits") { loadVisits(); }
  });
}
