// Hot-area warnings (热点预警) on the desk's map: each open warning's grid is hatched (an SVG pattern fill:
// colour is never the only cue) and labelled with its grid, problem type and count. The open warnings of
// the user's areas come with the page (#cc-warnings); `warning.raised` adds one, `warning.expired` takes
// it off. Drawn by their own SVG renderer (the rest of the map is canvas, which has no patterns), in a
// pane under the markers so they never take a click meant for an event.
import {map} from "./layers.js";

const NS = "http://www.w3.org/2000/svg";
const HATCH = "cc-hatch";
const words = document.getElementById("cc-warning-words");   // absent on the big screen
const drawn = new Map();                                      // warning id -> its L.GeoJSON
var renderer = null;

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
function label(w) {
  var text = words.getAttribute("data-label").replace("{grid}", w.grid_name || w.grid)
    .replace("{type}", w.problem_type_name || w.problem_type_code).replace("{count}", String(w.count));
  return w.status === "acknowledged" ? text + words.getAttribute("data-acknowledged") : text;
}
export function dropWarning(id) {
  var g = drawn.get(id);
  if (g) { map.removeLayer(g); drawn.delete(id); }
}
export function showWarning(w) {
  if (!words || !w) { return; }
  dropWarning(w.id);
  if (!w.boundary || w.status === "expired") { return; }
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
// A live message (main.js hands over every message carrying a warning).
export function applyWarning(m) {
  if (m.type === "warning.expired") { dropWarning(m.warning.id); } else { showWarning(m.warning); }
}
export function loadWarnings() {
  var data = document.getElementById("cc-warnings");
  if (!words || !data) { return; }
  JSON.parse(data.textContent).forEach(showWarning);
}
export function hasWarning(id) { return drawn.has(id); }
