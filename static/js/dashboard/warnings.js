// Hot-area warnings (热点预警) of the user's areas, on the desk's and the big screen's maps: each open
// warning's grid is hatched (an SVG pattern fill: colour is never the only cue) and labelled with its grid,
// problem type and count; the big screen also lists them (#cc-warning-list: grid, count in the window,
// since when, acknowledged or not, in words). The desk's page comes with the open warnings (#cc-warnings),
// the big screen asks the warnings API for them; both ask again after every later snapshot (a reconnect or
// a gap may have lost a push). Then live: `warning.raised` adds one, `warning.acknowledged` says so,
// `warning.expired` takes it off. Drawn by their own SVG renderer (the rest of the map is canvas, which has
// no patterns), in a pane under the markers so they never take a click meant for an event.
import {el, getAllPages} from "../common.js";
import {map} from "./layers.js";
import {cfg} from "./store.js";

const NS = "http://www.w3.org/2000/svg";
const HATCH = "cc-hatch";
const words = document.getElementById("cc-warning-words");
const list = document.getElementById("cc-warning-list");      // the big screen's panel (absent on the desk)
const drawn = new Map();                                      // warning id -> its L.GeoJSON
const held = new Map();                                       // warning id -> the warning (open ones)
var renderer = null;
var loading = null;                                           // messages that came while the list loaded

function ensureRenderer() {
  if (renderer) { return renderer; }
  map.createPane("cc-warnings").style.zIndex = 350;           // above the tiles (200), below overlays (400)
  renderer = L.svg({pane: "cc-warnings", padding: 0.3});
  map.addLayer(renderer);
  var root = renderer._container, defs = document.createElementNS(NS, "defs");
  var pattern = document.createElementNS(NS, "pattern"), line = document.createElementNS(NS, "line");
  [["id", HATCH], ["patternUnits", "userSpaceOnUse"], ["width", "8"], ["height", "8"],
   ["patternTransform", "rotate(45)"]].forEach(function (a) { pattern.setAttribute(a[0], a[1]); });
  [["x1", "0"], ["y1", "0"], ["x2", "0"], ["y2", "8"], ["class", "cc-hatch-line"]].forEach(function (a) { line.setAttribute(a[0], a[1]); });
  pattern.appendChild(line); defs.appendChild(pattern); root.insertBefore(defs, root.firstChild);
  return renderer;
}
function word(name) { return words.getAttribute("data-" + name); }
function gridName(w) { return w.grid_name || w.grid; }
function typeName(w) { return w.problem_type_name || w.problem_type_code; }
function label(w) {
  var text = word("label").replace("{grid}", gridName(w)).replace("{type}", typeName(w)).replace("{count}", String(w.count));
  return w.status === "acknowledged" ? text + word("acknowledged") : text;
}
function undraw(id) {
  var g = drawn.get(id);
  if (g) { map.removeLayer(g); drawn.delete(id); }
}
function draw(w) {
  undraw(w.id);
  if (!w.boundary) { return; }
  var text = label(w);
  var g = L.geoJSON(w.boundary, {renderer: ensureRenderer(), interactive: false,
    style: {className: "cc-warning", color: "#a4161a", weight: 2, dashArray: "6 3", fillColor: "url(#" + HATCH + ")", fillOpacity: 1}});
  g.eachLayer(function (l) { l.bindTooltip(text, {permanent: true, direction: "center", className: "cc-warning-label"}); });
  g.addTo(map);
  g.eachLayer(function (l) {
    var path = l.getElement();
    if (path) { path.setAttribute("data-warning", String(w.id)); }
    var tip = l.getTooltip() && l.getTooltip().getElement();
    if (tip) { tip.setAttribute("data-warning", String(w.id)); }
  });
  drawn.set(w.id, g);
}

// ---- the big screen's list --------------------------------------------------------------------
const TIME_FORMAT = {timeZone: cfg.timeZone, hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"};
function since(iso) { return iso ? new Date(iso).toLocaleString(cfg.locale, TIME_FORMAT) : "–"; }
// The window's length (the detector's setting) in days when whole, else hours, with the count: "5 in 7 days".
function inWindow(w) {
  var hours = Math.round((Date.parse(w.window_end) - Date.parse(w.window_start)) / 3600000);
  var text = hours && hours % 24 === 0 ? word("count-days").replace("{days}", String(hours / 24))
    : word("count-hours").replace("{hours}", String(hours));
  return text.replace("{count}", String(w.count));
}
function renderList() {
  if (!list) { return; }
  var rows = Array.from(held.values()).sort(function (a, b) { return Date.parse(b.raised_at) - Date.parse(a.raised_at) || b.id - a.id; });
  var body = list.querySelector("tbody"), count = document.getElementById("cc-warning-count");
  body.textContent = "";
  if (count) { count.textContent = String(rows.length); }
  if (!rows.length) {
    var none = el("tr", "cc-warning-none"), td = el("td", "", word("none"));
    td.colSpan = 4; none.appendChild(td); body.appendChild(none);
    return;
  }
  rows.forEach(function (w) {
    var tr = el("tr", w.status === "acknowledged" ? "acknowledged" : "raised");
    tr.setAttribute("data-warning", String(w.id));
    var where = el("th", "");
    where.scope = "row";
    where.appendChild(el("span", "", gridName(w)));
    where.appendChild(el("small", "", (w.street_name ? w.street_name + " · " : "") + typeName(w)));
    tr.appendChild(where);
    tr.appendChild(el("td", "num", inWindow(w)));
    tr.appendChild(el("td", "", since(w.raised_at)));
    // In words (and a mark, which screen readers skip): acknowledged or not is never said by colour alone.
    var ack = w.status === "acknowledged", state = el("td", "state"), mark = el("span", "", ack ? "✓ " : "! ");
    mark.setAttribute("aria-hidden", "true");
    state.appendChild(mark);
    state.appendChild(document.createTextNode(word(ack ? "acknowledged-state" : "raised-state")));
    tr.appendChild(state);
    body.appendChild(tr);
  });
}

// ---- what changes them ------------------------------------------------------------------------
function forget(id) { held.delete(id); undraw(id); }
function keep(w) {
  if (!w || w.status === "expired") { if (w) { forget(w.id); } return; }
  held.set(w.id, w);
  draw(w);
}
export function dropWarning(id) { forget(id); renderList(); }
export function showWarning(w) {
  if (!words || !w) { return; }
  keep(w); renderList();
}
// A live message (main.js hands over every message carrying a warning). While the list loads, it is
// noted too and applied again over the answer, which may have been read before it.
export function applyWarning(m) {
  if (!words || !m.warning) { return; }
  if (loading) { loading.push(m); }
  if (m.type === "warning.expired") { dropWarning(m.warning.id); } else { showWarning(m.warning); }
}
function replaceAll(rows) {
  Array.from(held.keys()).forEach(forget);
  rows.forEach(keep);
  renderList();
}
// Every open warning of the user's areas from the API (page after page), in place of those held.
export function reloadWarnings() {
  var url = words && word("url");
  if (!url || loading) { return; }
  loading = [];
  getAllPages(url).then(function (all) {
    var during = loading; loading = null;
    replaceAll(all);
    during.forEach(applyWarning);
  }, function () {
    loading = null; setTimeout(reloadWarnings, 5000);
  });
}
// The start: the desk's page came with them; the big screen asks.
export function loadWarnings() {
  if (!words) { return; }
  var data = document.getElementById("cc-warnings");
  if (data) { replaceAll(JSON.parse(data.textContent)); } else { reloadWarnings(); }
}
export function hasWarning(id) { return drawn.has(id); }
