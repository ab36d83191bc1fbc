// The colours of severity, credit and duty status for what scripts paint (map markers on a canvas), read
// from the style sheets' custom properties (static/css/palette.css): one palette for CSS and JS. Read on
// <body>, so a page's theme (.theme-dark on the big screen) gives its own tones.
let cached = null;

function read(names, prefix) {
  const css = getComputedStyle(document.body);
  const out = {};
  names.forEach((n) => { out[n] = css.getPropertyValue(prefix + n).trim(); });
  return out;
}

// Read on first use, not at import: by then the page's style sheets have loaded.
export function palette() {
  if (!cached) {
    cached = {
      severity: read(["red", "orange", "yellow", "blue"], "--sev-"),
      credit: read(["red", "yellow", "green", "none", "stroke"], "--credit-"),
      duty: read(["available", "en_route", "on_scene", "busy", "on_break", "off_duty", "unknown"], "--duty-"),
      map: read(["bg"], "--map-"),
      marker: read(["stroke"], "--marker-"),
    };
  }
  return cached;
}

// Colour is never the only cue: each severity has its shape on the maps (the legend shows them).
export const SEVERITY_SHAPE = {red: "triangle", orange: "diamond", yellow: "square", blue: "down"};

// A subject's marker on any map: filled with its credit colour, plain when it has no score.
export function creditMarkerStyle(colour) {
  const p = palette().credit;
  return {color: p.stroke, fillColor: p[colour] || p.none, weight: 1};
}

// Marker clusters named for a screen reader ("29 subjects, Enter zooms in"), not just "29": the cluster
// group's iconCreateFunction. The count is a number, so the HTML built from it is safe.
export function clusterIcon(label) {
  return function (cluster) {
    const n = cluster.getChildCount();
    const size = n < 10 ? "small" : (n < 100 ? "medium" : "large");
    const icon = new L.DivIcon({html: "<div><span>" + Number(n) + "</span></div>",
                                className: "marker-cluster marker-cluster-" + size, iconSize: new L.Point(40, 40)});
    const create = icon.createIcon;
    icon.createIcon = function (old) {
      const div = create.call(icon, old);
      div.setAttribute("aria-label", n + " " + label);
      return div;
    };
    return icon;
  };
}
