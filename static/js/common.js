// What every page script shares: its configuration, JSON requests, error text, countdowns, the map's box.
// Text from the server is always set as text (textContent), never as HTML.

// The page's configuration and translated strings: one JSON block written by Django's json_script
// (data, not code: the Content Security Policy has nothing to refuse).
export function readConfig(id, doc = document) {
  const node = doc.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) { e.className = cls; }
  if (text !== undefined && text !== null) { e.textContent = String(text); }
  return e;
}

export function getJSON(url) {
  return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then((r) => {
    if (!r.ok) { throw new Error(r.status); }
    return r.json();
  });
}

// Every row of a list endpoint, following its pages (`next`); a list answered unpaged is taken as it is.
export function getAllPages(url, rows = []) {
  return getJSON(url).then((body) => {
    rows = rows.concat(Array.isArray(body) ? body : body.results || []);
    return body.next ? getAllPages(body.next, rows) : rows;
  });
}

// An API refusal as one line: its detail, or its field messages ("field: message" unless fieldNames is
// false: the officers' phone shows the messages alone), or `failed (status)` when the body says nothing.
export function errorText(status, body, failed, {fieldNames = true} = {}) {
  if (body && typeof body === "object") {
    if (body.detail) { return String(body.detail); }
    const parts = Object.keys(body).map((k) => (fieldNames ? k + ": " : "") + [].concat(body[k]).join(" "));
    if (parts.length) { return parts.join("；"); }
  }
  return failed + " (" + status + ")";
}

// A time left as h:mm:ss or m:ss, "-" in front once it has run out.
export function countdown(ms) {
  const s = Math.round(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const txt = (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (r < 10 ? "0" : "") + r;
  return (ms < 0 ? "-" : "") + txt;
}

// The visible box of a Leaflet map as the API's bbox parameter (west,south,east,north).
export function bbox(map) {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
}

// "N subjects · too many, zoom in": the status line of a map's subject layer.
export function subjectCount(data, T) {
  return data.rows.length + " " + T.subjectsCount + (data.truncated ? " · " + T.truncated : "");
}

// The credit colours of the subjects in a box ({subject id: "red"|"yellow"|"green"}): an overlay, so
// when they cannot be had the subjects still show, plain.
export function creditColours(url, box) {
  if (!url) { return Promise.resolve({}); }
  return getJSON(url + "?bbox=" + box).then((c) => c.colors || {}, () => ({}));
}

// `times` short tones on a running WebAudio context (no sound file): the desk's alerts, the phone's new task.
export function tones(ctx, times, frequency = 880) {
  for (let i = 0; i < times; i++) {
    const t = ctx.currentTime + i * 0.35, osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.type = "square"; osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, t); gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
    osc.connect(gain).connect(ctx.destination); osc.start(t); osc.stop(t + 0.3);
  }
}
