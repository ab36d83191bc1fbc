// The colours of severity, credit and duty status for what scripts paint (map markers on a canvas), read
// from the style sheets' custom properties (static/css/palette.css): one palette for CSS and JS.
let cached = null;

function read(names, prefix) {
  const css = getComputedStyle(document.documentElement);
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
    };
  }
  return cached;
}

// A subject's marker on any map: filled with its credit colour, plain when it has no score.
export function creditMarkerStyle(colour) {
  const p = palette().credit;
  return {color: p.stroke, fillColor: p[colour] || p.none, weight: 1};
}
