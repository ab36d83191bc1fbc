// The dispatcher's dashboard (/command/) and the big screen (/command/screen/).
//
// State comes from the snapshot (GET /api/v1/command/snapshot/) and is kept live by /ws/command/.
// Messages are queued and applied once per animation frame (a burst of 50 events/s costs one DOM
// pass per frame, not one per message). Each stream's seq is checked: a gap, or a reconnect, fetches
// the snapshot again. Every action is a POST to the same REST API other clients use, with If-Match.
// Text from the server is always set as text (textContent), never as HTML.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("cc-config").textContent);
  // 24-hour times in the district's zone and the page's language (a desk browser set to en-US or another
  // zone must not show "12:13:56 AM" or a shifted hour).
  var CLOCK_FORMAT = {timeZone: cfg.timeZone, hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit"};
  var TIME_FORMAT = {timeZone: cfg.timeZone, hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
                     hour: "2-digit", minute: "2-digit", second: "2-digit"};
  var T = window.CC_TEXT || {};
  var SCREEN = document.body.classList.contains("cc-screen");
  var SEV_ORDER = {red: 0, orange: 1, yellow: 2, blue: 3};
  var SEV_COLOR = {red: "#d62728", orange: "#ff7f0e", yellow: "#e6c300", blue: "#1f77b4"};
  var DUTY_COLOR = {available: "#2ca02c", en_route: "#17becf", on_scene: "#9467bd", busy: "#8c564b", on_break: "#7f7f7f", off_duty: "#bbbbbb"};
  var QUEUE_LIMIT = 300;       // rows in the DOM; the rest are counted (filters narrow it down)
  var terminal = {};
  cfg.terminal.forEach(function (s) { terminal[s] = true; });
  var streetName = {};
  cfg.streets.forEach(function (s) { streetName[s.id] = s.name; });
  var teamName = {};
  (cfg.teams || []).forEach(function (t) { teamName[t.id] = t.name; });

  // ---- state ------------------------------------------------------------------------------
  var events = new Map();      // id -> row (with ._due: nearest unmet deadline ms, ._ver)
  var officers = new Map();    // id -> row
  var seqs = {};               // stream -> last seq applied
  var pending = [];            // messages waiting for the next frame
  var buffering = null;        // messages that arrived while a snapshot was loading
  var flushScheduled = false;
  var dirtyEvents = new Set(), dirtyOfficers = new Set(), queueDirty = true;
  var selectedId = null;
  var stats = {messages: 0, flushes: 0, resyncs: 0, lastFlushMs: 0, maxFlushMs: 0};
  window.ccStats = stats;      // read by tests and bench/dashboard.py

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function csrf() {
    var i = document.querySelector("input[name=csrfmiddlewaretoken]");
    return i ? i.value : "";
  }
  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    });
  }
  function nearestDue(row) {
    var best = Infinity;
    (row.deadlines || []).forEach(function (d) {
      if (!d.met_at) { var t = Date.parse(d.due_at); if (t < best) { best = t; } }
    });
    return best;
  }
  function prepare(row) {
    row._due = nearestDue(row);
    row._created = Date.parse(row.created_at);
    return row;
  }
  function isOverdue(row, now) { return row._due !== Infinity && row._due <= now; }

  // Apply one row: a newer or equal version replaces an older one; terminal statuses leave.
  function upsertEvent(row) {
    var held = events.get(row.id);
    if (held && held.version > row.version) { return false; }
    if (terminal[row.status]) {
      if (held) { events.delete(row.id); dirtyEvents.add(row.id); queueDirty = true; }
      return !!held;
    }
    events.set(row.id, prepare(row));
    dirtyEvents.add(row.id);
    queueDirty = true;
    return true;
  }
  function upsertOfficer(row) {
    officers.set(row.id, row);
    dirtyOfficers.add(row.id);
  }

  // ---- map --------------------------------------------------------------------------------
  var map = L.map("cc-map", {preferCanvas: true, maxZoom: 19, zoomControl: !SCREEN}).setView([30.30, 120.15], 13);
  if (cfg.tileUrl) { L.tileLayer(cfg.tileUrl, {maxZoom: 19}).addTo(map); }
  var renderer = L.canvas({padding: 0.3});
  var eventLayer = L.layerGroup().addTo(map);
  var officerLayer = L.layerGroup().addTo(map);
  var subjectLayer = L.markerClusterGroup({chunkedLoading: true, disableClusteringAtZoom: 18});
  var boundaryLayers = {};
  var eventMarkers = new Map(), officerMarkers = new Map(), headingLines = new Map();
  var mapStatus = document.getElementById("cc-map-status");
  var fitted = false;

  function eventStyle(row, now) {
    var late = isOverdue(row, now);
    return {renderer: renderer, radius: late ? 9 : (row.severity === "red" ? 8 : 6), color: late ? "#000" : "#fff",
            weight: late ? 3 : 1, fillColor: SEV_COLOR[row.severity] || "#888", fillOpacity: 0.95};
  }
  function eventLabel(row) {
    return "#" + row.id + " " + (row.problem_type_name || row.problem_type_code) + " · " +
      (cfg.labels.status[row.status] || row.status) + (row.address ? " · " + row.address : "");
  }
  function syncEventMarker(id, now) {
    var row = events.get(id), m = eventMarkers.get(id);
    var show = row && matches(row);
    if (!show) {
      if (m) { eventLayer.removeLayer(m); eventMarkers.delete(id); }
      return;
    }
    if (!m) {
      m = L.circleMarker([row.lat, row.lng], eventStyle(row, now));
      m.on("click", function () { openDrawer(id); });
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
  function syncOfficerMarker(id) {
    var o = officers.get(id), m = officerMarkers.get(id);
    var show = o && o.last_lat !== null && o.last_lng !== null && o.duty_status !== "off_duty";
    if (!show) {
      if (m) { officerLayer.removeLayer(m); officerMarkers.delete(id); }
      syncHeading(id, null);
      return;
    }
    // Older positions fade: a stale dot should not look like a live one.
    var age = o.last_position_at ? (Date.now() - Date.parse(o.last_position_at)) / 60000 : 999;
    var style = {renderer: renderer, radius: 5, color: "#222", weight: 1, fillColor: DUTY_COLOR[o.duty_status] || "#555",
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
    var style = {renderer: renderer, color: DUTY_COLOR[o.duty_status] || "#555", weight: 3, opacity: opacity, interactive: false};
    if (!line) {
      line = L.polyline(points, style);
      headingLines.set(id, line);
      officerLayer.addLayer(line);
    } else {
      line.setLatLngs(points);
      line.setStyle(style);
    }
  }

  var boundaryStyles = {street: {color: "#0b3d91", weight: 2, fill: false}, grid: {color: "#6b8e23", weight: 1, fill: false}};
  var boundarySeq = {};
  function layerOn(name) {
    var box = document.querySelector('#cc-layers input[data-layer="' + name + '"]');
    return box ? box.checked : (name === "street" || name === "officers");
  }
  function loadBoundary(kind) {
    if (!layerOn(kind)) {
      if (boundaryLayers[kind]) { map.removeLayer(boundaryLayers[kind]); if (kind !== "street") { delete boundaryLayers[kind]; } }
      return;
    }
    if (kind === "street" && boundaryLayers.street) { boundaryLayers.street.addTo(map); return; }
    var mine = boundarySeq[kind] = (boundarySeq[kind] || 0) + 1;
    getJSON(cfg.areasUrl + "?kind=" + kind + (kind === "street" ? "" : "&bbox=" + bbox())).then(function (fc) {
      if (mine !== boundarySeq[kind] || !layerOn(kind)) { return; }
      if (boundaryLayers[kind]) { map.removeLayer(boundaryLayers[kind]); }
      boundaryLayers[kind] = L.geoJSON(fc, {style: boundaryStyles[kind], interactive: false, renderer: renderer}).addTo(map);
      boundaryLayers[kind].bringToBack();
      if (!fitted && kind === "street" && fc.features.length) { fitted = true; map.fitBounds(boundaryLayers[kind].getBounds()); }
    }).catch(function () { /* boundaries are decoration: the events still show */ });
  }
  function bbox() {
    var b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
  }
  // Subjects: only the visible box, clustered; coloured by credit when the credit app offers colours.
  var subjectSeq = 0;
  function loadSubjects() {
    var mine = ++subjectSeq;
    if (!layerOn("subjects")) { map.removeLayer(subjectLayer); subjectLayer.clearLayers(); if (mapStatus) { mapStatus.textContent = ""; } return; }
    if (!map.hasLayer(subjectLayer)) { map.addLayer(subjectLayer); }
    var box = bbox();
    var colours = cfg.creditColorsUrl ? getJSON(cfg.creditColorsUrl + "?bbox=" + box).then(creditColours).catch(function () { return {}; })
                                      : Promise.resolve({});
    Promise.all([getJSON(cfg.pointsUrl + "?bbox=" + box), colours]).then(function (res) {
      if (mine !== subjectSeq) { return; }
      var data = res[0], colour = res[1];
      subjectLayer.clearLayers();
      subjectLayer.addLayers(data.rows.map(function (r) {
        var c = colour[r[0]];
        var m = L.circleMarker([r[2], r[3]], {renderer: renderer, radius: 4, weight: 1, color: "#555",
                                               fillColor: CREDIT_COLOR[c] || "#9aa5b1", fillOpacity: 0.8});
        m.bindTooltip(function () { return el("span", "", r[1] + " · " + (r[4] || "")); });
        return m;
      }));
      if (mapStatus) { mapStatus.textContent = data.rows.length + " " + T.subjectsCount + (data.truncated ? " · " + T.truncated : ""); }
    }).catch(function (e) { if (mapStatus && mine === subjectSeq) { mapStatus.textContent = "⚠ " + e.message; } });
  }
  var CREDIT_COLOR = {red: "#d62728", yellow: "#e6c300", green: "#2ca02c"};
  // Accepts {"colors": {id: colour}}, {"rows": [[id, colour], …]} or {id: colour}.
  function creditColours(data) {
    var out = {};
    if (!data) { return out; }
    if (Array.isArray(data.rows)) { data.rows.forEach(function (r) { out[r[0]] = Array.isArray(r) ? r[r.length - 1] : r.color; }); return out; }
    var src = data.colors || data.colours || data;
    Object.keys(src).forEach(function (k) { out[k] = typeof src[k] === "string" ? src[k] : (src[k] && src[k].color); });
    return out;
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

  // ---- filters and queue ------------------------------------------------------------------
  var filters = {q: "", street: "", severity: "", status: "", source: "", problem_type: ""};
  var filterForm = document.getElementById("cc-filters");
  function fillSelect(name, pairs) {
    var sel = filterForm && filterForm.elements[name];
    if (!sel) { return; }
    pairs.forEach(function (p) { var o = el("option", "", p[1]); o.value = p[0]; sel.appendChild(o); });
  }
  function pairs(obj) { return Object.keys(obj).map(function (k) { return [k, obj[k]]; }); }
  if (filterForm) {
    fillSelect("street", cfg.streets.map(function (s) { return [String(s.id), s.name]; }));
    fillSelect("severity", pairs(cfg.labels.severity));
    fillSelect("status", pairs(cfg.labels.status).filter(function (p) { return !terminal[p[0]]; }));
    fillSelect("source", pairs(cfg.labels.source));
    fillSelect("problem_type", cfg.problemTypes.map(function (p) { return [p.code, p.code + " " + p.name]; }));
    var onFilter = function () {
      Object.keys(filters).forEach(function (k) { filters[k] = (filterForm.elements[k].value || "").trim(); });
      var now = Date.now();
      events.forEach(function (row, id) { syncEventMarker(id, now); });
      queueDirty = true;
      schedule();
    };
    filterForm.addEventListener("input", onFilter);
    filterForm.addEventListener("change", onFilter);
  }
  function matches(row) {
    if (filters.street && String(row.street_id) !== filters.street) { return false; }
    if (filters.severity && row.severity !== filters.severity) { return false; }
    if (filters.status && row.status !== filters.status) { return false; }
    if (filters.source && row.source !== filters.source) { return false; }
    if (filters.problem_type && row.problem_type_code !== filters.problem_type) { return false; }
    if (filters.q) {
      var q = filters.q.replace(/^#/, "").toLowerCase();
      if (String(row.id) !== q && (row.address || "").toLowerCase().indexOf(q) < 0 &&
          (row.problem_type_name || "").toLowerCase().indexOf(q) < 0 && (row.problem_type_code || "").toLowerCase().indexOf(q) < 0) {
        return false;
      }
    }
    return true;
  }
  // Urgency: the nearest unmet deadline first (overdue ones are in the past, so they lead); then the
  // more severe colour; events with no running clock last, oldest first.
  function byUrgency(a, b) {
    if (a._due !== b._due) { return a._due < b._due ? -1 : 1; }
    var s = (SEV_ORDER[a.severity] || 9) - (SEV_ORDER[b.severity] || 9);
    return s || (a._created - b._created) || (a.id - b.id);
  }
  var queueEl = document.getElementById("cc-queue");
  var rowEls = new Map();
  function countdown(ms) {
    var s = Math.round(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var txt = (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (r < 10 ? "0" : "") + r;
    return (ms < 0 ? "-" : "") + txt;
  }
  function buildRow(row) {
    var li = el("li", "cc-row");
    li.setAttribute("data-id", row.id);
    li.tabIndex = 0;
    li.appendChild(el("span", "cc-sev"));
    li.appendChild(el("span", "cc-id"));
    li.appendChild(el("span", "cc-pt"));
    li.appendChild(el("span", "cc-cd"));
    li.appendChild(el("span", "cc-meta"));
    return li;
  }
  function fillRow(li, row) {
    li._ver = row.version + ":" + row.updated_at + ":" + row._due;
    li.className = "cc-row sev-" + row.severity + (row.id === selectedId ? " selected" : "");
    var c = li.children;
    c[0].textContent = cfg.labels.severity[row.severity] || row.severity;
    c[1].textContent = "#" + row.id;
    c[2].textContent = row.problem_type_name || row.problem_type_code;
    c[4].textContent = [streetName[row.street_id] || "", cfg.labels.status[row.status] || row.status,
                        cfg.labels.source[row.source] || row.source, row.address || ""].filter(Boolean).join(" · ");
    li._due = row._due;
  }
  function tickRow(li, now) {
    var cd = li.children[3];
    if (li._due === Infinity) { cd.textContent = T.noDeadline; li.classList.remove("late"); return; }
    var left = li._due - now;
    cd.textContent = countdown(left);
    li.classList.toggle("late", left <= 0);
  }
  function renderQueue(now) {
    if (!queueEl) { return; }
    var list = [];
    events.forEach(function (row) { if (matches(row)) { list.push(row); } });
    list.sort(byUrgency);
    var shown = list.slice(0, QUEUE_LIMIT);
    var keep = new Set();
    for (var i = 0; i < shown.length; i++) {
      var row = shown[i], li = rowEls.get(row.id);
      if (!li) { li = buildRow(row); rowEls.set(row.id, li); }
      if (li._ver !== row.version + ":" + row.updated_at + ":" + row._due || li._sel !== (row.id === selectedId)) {
        fillRow(li, row); li._sel = row.id === selectedId;
      }
      tickRow(li, now);
      keep.add(row.id);
      if (queueEl.children[i] !== li) { queueEl.insertBefore(li, queueEl.children[i] || null); }
    }
    rowEls.forEach(function (li, id) { if (!keep.has(id)) { li.remove(); rowEls.delete(id); } });
    var count = document.getElementById("cc-queue-count");
    if (count) {
      count.textContent = list.length > QUEUE_LIMIT ? T.shown + " " + QUEUE_LIMIT + " / " + T.of + " " + list.length + " " + T.refine
                                                     : T.of + " " + list.length;
    }
  }
  if (queueEl) {
    queueEl.addEventListener("click", function (e) {
      var li = e.target.closest(".cc-row");
      if (li) { openDrawer(Number(li.getAttribute("data-id")), true); }
    });
    queueEl.addEventListener("keydown", function (e) {
      var li = e.target.closest(".cc-row");
      if (li && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); openDrawer(Number(li.getAttribute("data-id")), true); }
    });
  }

  // ---- header counters --------------------------------------------------------------------
  function setCount(name, value) {
    document.querySelectorAll('[data-count="' + name + '"]').forEach(function (b) { b.textContent = value; });
  }
  function renderCounters(now) {
    var sev = {red: 0, orange: 0, yellow: 0, blue: 0}, overdue = 0;
    events.forEach(function (row) { sev[row.severity] = (sev[row.severity] || 0) + 1; if (isOverdue(row, now)) { overdue++; } });
    Object.keys(sev).forEach(function (k) { setCount("open-" + k, sev[k]); });
    setCount("open-total", events.size);
    setCount("overdue", overdue);
    var onDuty = 0;
    officers.forEach(function (o) { if (o.duty_status !== "off_duty") { onDuty++; } });
    setCount("on-duty", onDuty);
  }
  function pct(rate) { return rate === null || rate === undefined ? "–" : (Math.round(rate * 1000) / 10) + "%"; }
  function loadFigures() {
    return getJSON(cfg.figuresUrl).then(function (f) {
      setCount("on-time", pct(f.on_time.rate));
      renderFigures(f);
    }).catch(function () { /* next round */ });
  }

  // The big screen's panels (absent on the desk page).
  function bars(id, items, max, fmt) {
    var ul = document.getElementById(id);
    if (!ul) { return; }
    ul.textContent = "";
    items.forEach(function (it) {
      var li = el("li", it.cls || "");
      li.appendChild(el("span", "", it.label));
      var bar = el("span", "bar"), fill = el("i");
      fill.style.width = (max ? Math.min(100, 100 * it.value / max) : 0) + "%";
      bar.appendChild(fill); li.appendChild(bar);
      li.appendChild(el("span", "", fmt ? fmt(it) : it.value));
      ul.appendChild(li);
    });
  }
  function renderFigures(f) {
    document.querySelectorAll("[data-fig=date]").forEach(function (e) { e.textContent = f.date; });
    document.querySelectorAll("[data-fig=today-total]").forEach(function (e) { e.textContent = f.today.total; });
    var sevMax = Math.max.apply(null, f.today.by_severity.map(function (s) { return s.count; }).concat([1]));
    bars("fig-severity", f.today.by_severity.map(function (s) { return {label: s.label, value: s.count, cls: "sev-" + s.severity}; }), sevMax);
    var src = f.today.by_source.filter(function (s) { return s.count; });
    bars("fig-source", src.map(function (s) { return {label: s.label, value: s.count}; }),
         Math.max.apply(null, src.map(function (s) { return s.count; }).concat([1])));
    bars("fig-on-time", f.on_time.stages.map(function (s) { return {label: s.label, value: s.rate || 0, rate: s.rate, n: s.total}; }), 1,
         function (it) { return pct(it.rate); });
    var top = f.today.top_problem_types;
    bars("fig-top", top.map(function (t) { return {label: t.name || t.code, value: t.count}; }),
         Math.max.apply(null, top.map(function (t) { return t.count; }).concat([1])));
  }
  var clock = document.getElementById("screen-clock");
  if (clock) { setInterval(function () { clock.textContent = new Date().toLocaleTimeString(cfg.locale, CLOCK_FORMAT); }, 1000); }

  // ---- alerts: flash + a tone made with WebAudio (no sound file), mutable ---------------------
  var muted = localStorage.getItem("cc-muted") === "1";
  var audio = null;
  var muteBtn = document.getElementById("cc-mute");
  function showMute() {
    if (!muteBtn) { return; }
    muteBtn.textContent = muted ? T.unmute : T.mute;
    muteBtn.setAttribute("aria-pressed", muted ? "true" : "false");
  }
  if (muteBtn) {
    showMute();
    muteBtn.addEventListener("click", function () {
      muted = !muted; localStorage.setItem("cc-muted", muted ? "1" : "0"); showMute();
      ensureAudio();
    });
  }
  function ensureAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) { audio = new Ctx(); }
    if (audio && audio.state === "suspended") { audio.resume().catch(function () {}); }
    return audio;
  }
  // Browsers only let a page play sound after the user touched it: the first click opens the audio
  // (until then alerts only flash; creating or resuming a context per alert would cost the page).
  document.addEventListener("pointerdown", ensureAudio, {once: true});
  var lastBeep = 0;
  function beep(times) {
    var ctx = audio;
    if (muted || !ctx || ctx.state !== "running" || Date.now() - lastBeep < 1500) { return; }
    lastBeep = Date.now();
    for (var i = 0; i < times; i++) {
      var t = ctx.currentTime + i * 0.35, osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.type = "square"; osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, t); gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
      osc.connect(gain).connect(ctx.destination); osc.start(t); osc.stop(t + 0.3);
    }
  }
  var alertsEl = document.getElementById("cc-alerts");
  var pendingBeeps = 0, alertsThisFlush = 0, alertsHidden = 0, summaryEl = null;
  var MAX_ALERTS_PER_FLUSH = 3;
  function raiseAlert(kind, row, text) {
    pendingBeeps = Math.max(pendingBeeps, kind === "breach" ? 3 : 2);
    if (!alertsEl) { return; }
    // A burst must not bury the page under toasts: a few per frame, the rest counted in one line.
    if (++alertsThisFlush > MAX_ALERTS_PER_FLUSH) { alertsHidden++; return; }
    var a = el("div", "cc-alert cc-alert-" + kind);
    a.setAttribute("data-event", row.id);
    a.appendChild(el("b", "", (kind === "breach" ? T.breach : T.redEvent) + " #" + row.id));
    a.appendChild(el("span", "", " " + text));
    a.addEventListener("click", function () { a.remove(); if (events.has(row.id)) { openDrawer(row.id, true); } });
    alertsEl.insertBefore(a, alertsEl.firstChild);
    while (alertsEl.children.length > 6) { alertsEl.lastChild.remove(); }
    setTimeout(function () { a.classList.add("old"); }, 15000);
    setTimeout(function () { a.remove(); }, 60000);
  }
  // The header flashes for 3 s after the latest alert. Only the header's class changes: a class on
  // <body>, or a forced reflow to restart the animation, would restyle the whole page at every alert.
  var flashTimer = null, header = document.querySelector(".cc-header, .screen-head");
  function flash() {
    if (!header) { return; }
    header.classList.add("cc-flash");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { header.classList.remove("cc-flash"); }, 3000);
  }

  // ---- live: websocket, seq per stream, snapshot resync -----------------------------------
  var linkEl = document.getElementById("cc-link");
  var banner = document.getElementById("cc-banner");
  var ws = null, retry = 0, pingTimer = null, everConnected = false, hellos = 0;
  function setLink(state) {
    if (linkEl) { linkEl.setAttribute("data-state", state); linkEl.textContent = T[state] || state; }
    if (banner) { banner.hidden = state !== "down"; }
    document.body.setAttribute("data-link", state);
  }
  var snapshotSeq = 0, lastSnapshotAt = 0, snapshotInFlight = false;
  function resync() {
    var mine = ++snapshotSeq;
    snapshotInFlight = true;
    stats.resyncs++;
    buffering = buffering || [];
    setLink(ws && ws.readyState === 1 ? "resyncing" : (everConnected ? "down" : "connecting"));
    // The first snapshot was asked for by the page's head, while the scripts loaded.
    var early = window.ccSnapshot;
    window.ccSnapshot = null;
    return (early ? early.catch(function () { return getJSON(cfg.snapshotUrl); }) : getJSON(cfg.snapshotUrl)).then(function (snap) {
      if (mine !== snapshotSeq) { return; }
      snapshotInFlight = false;
      stats.snapshots = (stats.snapshots || 0) + 1;
      lastSnapshotAt = Date.now();
      events.forEach(function (row, id) { dirtyEvents.add(id); });
      events.clear();
      snap.events.forEach(function (row) { upsertEvent(row); });
      officers.forEach(function (o, id) { dirtyOfficers.add(id); });
      officers.clear();
      snap.officers.forEach(upsertOfficer);
      seqs = {};
      Object.keys(snap.streams).forEach(function (s) { seqs[s] = snap.streams[s]; });
      var held = buffering;
      buffering = null;
      queueDirty = true;
      // Messages that came while we read: those at or below the snapshot's seq are already in it.
      held.forEach(function (m) { receive(m); });
      if (ws && ws.readyState === 1) { setLink("live"); }
      schedule();
      if (selectedId !== null && !events.has(selectedId) && !SCREEN) { refreshDrawer(); }
    }).catch(function () {
      if (mine === snapshotSeq) { snapshotInFlight = false; setTimeout(resync, 3000); }
    });
  }
  function receive(msg) {
    if (!msg || !msg.type) { return; }
    // A snapshot read before the socket joined its groups may miss a change made in between: the next
    // message's seq then shows the gap and brings a fresh snapshot.
    if (msg.type === "hello") {
      hellos++;
      if (hellos > 1 || (!snapshotInFlight && !stats.snapshots)) { resync(); }   // a reconnect: resync
      else if (!snapshotInFlight) { setLink("live"); }
      return;
    }
    if (msg.type === "pong") { return; }
    if (buffering) { buffering.push(msg); return; }
    if (msg.stream && typeof msg.seq === "number") {
      var last = seqs[msg.stream];
      if (last !== undefined && msg.seq <= last) { return; }            // already in the snapshot
      if (last !== undefined && msg.seq > last + 1) { resync(); return; } // a gap: we missed something
      seqs[msg.stream] = msg.seq;
    }
    stats.messages++;
    pending.push(msg);
    schedule();
  }
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.wsPath;
    setLink(everConnected ? "down" : "connecting");
    try { ws = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    ws.onopen = function () {
      retry = 0; everConnected = true;
      clearInterval(pingTimer);
      pingTimer = setInterval(function () { if (ws && ws.readyState === 1) { ws.send(JSON.stringify({type: "ping"})); } }, 25000);
    };
    ws.onmessage = function (e) { var m; try { m = JSON.parse(e.data); } catch (err) { return; } receive(m); };
    ws.onclose = function () {
      clearInterval(pingTimer); setLink("down"); scheduleReconnect();
      // While the link is down the page still shows the state, from the snapshot, refreshed now and then.
      if (Date.now() - lastSnapshotAt > 10000) { resync(); }
    };
    ws.onerror = function () { /* onclose follows */ };
  }
  function scheduleReconnect() {
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, Math.min(1000 * Math.pow(2, retry - 1), 15000));
  }
  window.ccDebug = {
    drop: function () { if (ws) { ws.close(); } },       // tests: the link goes down and comes back
    receive: receive, state: function () { return {events: events.size, officers: officers.size, headings: headingLines.size, seqs: seqs}; },
    hasEvent: function (id) { return events.has(id); }, hasMarker: function (id) { return eventMarkers.has(id); },
    event: function (id) { return events.get(id) || null; },
    // Nothing waiting: no message unapplied, no drawer refresh due or under way.
    idle: function () { return !pending.length && !flushScheduled && !drawerStale && !drawerLoading; }
  };

  // ---- one DOM pass per frame ---------------------------------------------------------------
  function schedule() {
    if (flushScheduled) { return; }
    flushScheduled = true;
    // A hidden tab gets no animation frames: a timer keeps the state current there.
    if (document.hidden) { setTimeout(flush, 250); } else { requestAnimationFrame(flush); }
  }
  function flush() {
    flushScheduled = false;
    var t0 = performance.now(), now = Date.now();
    var batch = pending; pending = [];
    batch.forEach(function (m) {
      if (m.type === "officer.moved" && m.officer) { upsertOfficer(m.officer); return; }
      if (!m.event) { return; }
      var before = events.get(m.event.id);
      var wasRed = before && before.severity === "red";
      var applied = upsertEvent(m.event);
      if (m.type === "sla.breached") {
        var stage = m.breach && m.breach.stage;
        raiseAlert("breach", m.event, (cfg.labels.stage[stage] || stage || "") + T.overdue);
      } else if (applied && m.event.severity === "red" && !wasRed && !terminal[m.event.status]) {
        raiseAlert("red", m.event, m.event.problem_type_name || m.event.problem_type_code);
      }
      if (m.event.id === selectedId && !SCREEN) { drawerStale = true; }
    });
    if (pendingBeeps) { flash(); beep(pendingBeeps); pendingBeeps = 0; }
    if (alertsHidden && alertsEl) {
      if (!summaryEl || !summaryEl.isConnected) { summaryEl = el("div", "cc-alert cc-alert-more"); summaryEl._n = 0; }
      summaryEl._n += alertsHidden;
      summaryEl.textContent = "+" + summaryEl._n + " " + (T.moreAlerts || "");
      alertsEl.appendChild(summaryEl);
      alertsHidden = 0;
    }
    alertsThisFlush = 0;
    dirtyEvents.forEach(function (id) { syncEventMarker(id, now); });
    dirtyEvents.clear();
    if (layerOn("officers")) { dirtyOfficers.forEach(syncOfficerMarker); dirtyOfficers.clear(); }
    if (queueDirty) { renderQueue(now); queueDirty = false; }
    renderCounters(now);
    if (drawerStale) { drawerStale = false; refreshDrawer(); }
    if (!fitted && events.size && !boundaryLayers.street) {
      fitted = true;
      map.fitBounds(L.latLngBounds(Array.from(events.values()).map(function (r) { return [r.lat, r.lng]; })), {maxZoom: 15});
    }
    var ms = performance.now() - t0;
    stats.flushes++; stats.lastFlushMs = ms; stats.maxFlushMs = Math.max(stats.maxFlushMs, ms);
    if (!stats.readyAt && stats.snapshots) {
      stats.readyAt = performance.now();
      document.body.setAttribute("data-ready", "1");
      // Then what can wait: today's figures, subjects and grid lines (one server thread serves them in turn).
      loadFigures();
      setInterval(loadFigures, SCREEN ? 15000 : 30000);
      setTimeout(function () { loadSubjects(); loadBoundary("grid"); }, 50);
    }
  }
  // The clock: countdowns, overdue styling and counters, once a second.
  setInterval(function () {
    var now = Date.now();
    rowEls.forEach(function (li) { tickRow(li, now); });
    events.forEach(function (row, id) {
      var m = eventMarkers.get(id);
      if (m && m._late !== isOverdue(row, now)) { syncEventMarker(id, now); }
    });
    renderCounters(now);
    tickDrawer(now);
  }, 1000);

  // ---- the drawer -------------------------------------------------------------------------
  var drawer = document.getElementById("cc-drawer");
  var drawerBody = document.getElementById("cc-drawer-body");
  var drawerErr = document.getElementById("cc-drawer-error");
  var drawerTitle = document.getElementById("cc-drawer-title");
  var current = null, etag = null, drawerStale = false, drawerSeq = 0, drawerLoading = 0;
  function showError(text) {
    if (!drawerErr) { return; }
    drawerErr.hidden = !text;
    drawerErr.textContent = text || "";
  }
  function errorText(status, body) {
    if (!body || typeof body !== "object") { return T.failed + " (" + status + ")"; }
    if (body.detail) { return String(body.detail); }
    return Object.keys(body).map(function (k) { return k + ": " + [].concat(body[k]).join(" "); }).join("；");
  }
  function openDrawer(id, pan) {
    if (!drawer) { return; }
    selectedId = id;
    queueDirty = true; schedule();
    drawer.hidden = false;
    showError("");
    var row = events.get(id);
    if (pan && row) { map.panTo([row.lat, row.lng]); }
    refreshDrawer();
  }
  function closeDrawer() {
    if (!drawer) { return; }
    drawer.hidden = true; selectedId = null; current = null; etag = null;
    queueDirty = true; schedule();
  }
  var closeBtn = document.getElementById("cc-drawer-close");
  if (closeBtn) { closeBtn.addEventListener("click", closeDrawer); }
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && drawer && !drawer.hidden) { closeDrawer(); } });

  function refreshDrawer() {
    if (selectedId === null || !drawer) { return Promise.resolve(); }
    var id = selectedId, mine = ++drawerSeq;
    var url = cfg.eventsUrl + id + "/";
    var detail = fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) { return {ok: r.ok, status: r.status, body: b, etag: r.headers.get("ETag")}; });
    });
    var cands = cfg.canCommand ? getJSON(url + "candidates/").catch(function () { return null; }) : Promise.resolve(null);
    drawerLoading++;
    return Promise.all([detail, cands]).finally(function () { drawerLoading--; }).then(function (res) {
      if (mine !== drawerSeq || id !== selectedId) { return; }
      var d = res[0];
      if (!d.ok) { showError(d.status === 404 ? T.gone : errorText(d.status, d.body)); return; }
      current = d.body; etag = d.etag;
      renderDrawer(current, res[1]);
    }).catch(function (e) { showError(T.failed + ": " + e.message); });
  }
  function section(title) {
    var s = el("section", "cc-sec");
    s.appendChild(el("h3", "", title));
    return s;
  }
  function kv(dl, key, value) {
    if (value === null || value === undefined || value === "") { return; }
    dl.appendChild(el("dt", "", key));
    dl.appendChild(el("dd", "", value));
  }
  function fmtTime(iso) { return iso ? new Date(iso).toLocaleString(cfg.locale, TIME_FORMAT) : ""; }
  function renderDrawer(ev, cands) {
    drawerTitle.textContent = "#" + ev.id + " " + (ev.problem_type_name || ev.problem_type) + " · " + ev.severity_label + " · " + ev.status_label;
    drawer.className = "cc-drawer sev-" + ev.severity;
    drawerBody.textContent = "";
    var d = section(T.details), dl = el("dl", "cc-kv");
    kv(dl, T.description, ev.description);
    kv(dl, T.address, ev.address || (ev.lat.toFixed(5) + ", " + ev.lng.toFixed(5)));
    kv(dl, T.street, streetName[ev.street_id] || ev.street_code);
    kv(dl, T.team, ev.team_name);
    kv(dl, T.officer, ev.officer_name);
    kv(dl, T.source, cfg.labels.source[ev.source] || ev.source);
    kv(dl, T.reporter, [ev.reporter_name, ev.reporter_phone].filter(Boolean).join(" "));
    kv(dl, T.subject, ev.subject_name);
    kv(dl, T.created, fmtTime(ev.created_at));
    kv(dl, T.routing, ev.routing_reason);
    kv(dl, T.escalation, ev.escalation_level || "");
    kv(dl, T.duplicate, ev.possible_duplicate_of ? "#" + ev.possible_duplicate_of : "");
    d.appendChild(dl);
    drawerBody.appendChild(d);

    var dls = section(T.deadlines), ul = el("ul", "cc-deadlines");
    (ev.deadlines || []).filter(function (x) { return !x.cancelled_at; }).forEach(function (x) {
      var li = el("li", x.met_at ? "met" : "");
      li.appendChild(el("span", "", cfg.labels.stage[x.stage] || x.stage));
      var cd = el("span", "cc-cd");
      if (x.met_at) { cd.textContent = T.met + " " + fmtTime(x.met_at); } else { cd.setAttribute("data-due", Date.parse(x.due_at)); }
      li.appendChild(cd);
      ul.appendChild(li);
    });
    dls.appendChild(ul);
    drawerBody.appendChild(dls);

    var photos = ev.photos || [];
    if (photos.length) {
      var ps = section(T.photos), box = el("div", "cc-photos");
      photos.forEach(function (p) {
        var src = typeof p === "string" ? p : (p.thumbnail_url || p.thumbnail || p.url || p.image);
        var full = typeof p === "string" ? p : (p.url || p.image || src);
        if (!src) { return; }
        var a = el("a"); a.href = full; a.target = "_blank"; a.rel = "noopener";
        var img = el("img"); img.src = src; img.alt = (p && p.caption) || ""; img.loading = "lazy";
        a.appendChild(img); box.appendChild(a);
      });
      ps.appendChild(box);
      drawerBody.appendChild(ps);
    }

    if (cands && cands.candidates) {
      var cs = section(T.candidates), ol = el("ol", "cc-cands");
      var eligible = cands.candidates.filter(function (c) { return c.eligible; }).slice(0, 8);
      var others = cands.candidates.filter(function (c) { return !c.eligible; }).slice(0, 5);
      eligible.concat(others).forEach(function (c) {
        var li = el("li", c.eligible ? "ok" : "no");
        var head = el("div", "cc-cand-head");
        head.appendChild(el("b", "", c.name + " (" + c.badge_no + ")"));
        head.appendChild(el("span", "", " " + (cfg.labels.duty[c.duty_status] || c.duty_status) + " · " + T.rank + " " + c.rank +
          (c.distance_m !== null ? " · " + Math.round(c.distance_m) + T.meters : "") + " · " + T.load + " " + c.load));
        if (c.eligible && cfg.canCommand && c.officer !== ev.officer) {
          var b = el("button", "cc-dispatch", ev.officer ? T.reassign : T.dispatch);
          b.type = "button";
          b.setAttribute("data-officer", c.officer);
          b.addEventListener("click", function () { act("dispatch", {officer: c.officer}, b); });
          head.appendChild(b);
        }
        li.appendChild(head);
        li.appendChild(el("div", "cc-reasons", (c.reasons || []).join("；")));
        ol.appendChild(li);
      });
      cs.appendChild(ol);
      drawerBody.appendChild(cs);
    }

    var ts = section(T.timeline), tl = el("ol", "cc-timeline");
    (ev.timeline || []).slice().reverse().forEach(function (t) {
      var li = el("li");
      li.appendChild(el("time", "", fmtTime(t.at)));
      li.appendChild(el("b", "", " " + (cfg.labels.action[t.action] || t.action)));
      var move = t.from_status && t.to_status && t.from_status !== t.to_status
        ? " " + (cfg.labels.status[t.from_status] || t.from_status) + " → " + (cfg.labels.status[t.to_status] || t.to_status) : "";
      li.appendChild(el("span", "", move + (t.actor ? " · " + t.actor : "") + (t.note ? " · " + t.note : "")));
      tl.appendChild(li);
    });
    ts.appendChild(tl);
    drawerBody.appendChild(ts);

    var sevSel = document.querySelector('#cc-actions form[data-action="severity"] select');
    if (sevSel && !sevSel.options.length) {
      pairs(cfg.labels.severity).forEach(function (p) { var o = el("option", "", p[1]); o.value = p[0]; sevSel.appendChild(o); });
    }
    if (sevSel) { sevSel.value = ev.severity; }
    tickDrawer(Date.now());
  }
  function tickDrawer(now) {
    if (!drawer || drawer.hidden) { return; }
    drawer.querySelectorAll(".cc-cd[data-due]").forEach(function (cd) {
      var left = Number(cd.getAttribute("data-due")) - now;
      cd.textContent = (left <= 0 ? T.overdue + " " : T.left + " ") + countdown(left);
      cd.classList.toggle("late", left <= 0);
    });
  }

  function act(action, body, button) {
    if (!current) { return Promise.resolve(); }
    var id = current.id;
    showError("");
    if (button) { button.disabled = true; }
    return fetch(cfg.eventsUrl + id + "/" + action + "/", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf(), "If-Match": etag || "*"},
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) {
        if (button) { button.disabled = false; }
        if (r.ok) {
          current = b; etag = r.headers.get("ETag");
          // The websocket brings the same change to everyone; apply ours now so the queue follows at once.
          var row = events.get(id);
          if (row && b) {
            upsertEvent(Object.assign({}, row, {version: b.version, status: b.status, severity: b.severity, officer_id: b.officer,
                                                 escalation_level: b.escalation_level, updated_at: b.updated_at,
                                                 deadlines: (b.deadlines || []).filter(function (x) { return !x.cancelled_at; })}));
            schedule();
          }
          if (terminal[b.status]) { closeDrawer(); return; }
          return refreshDrawer();
        }
        if (r.status === 412) { showError(T.stale); return refreshDrawer().then(function () { showError(T.stale); }); }
        showError(errorText(r.status, b));
      });
    }).catch(function (e) { if (button) { button.disabled = false; } showError(T.failed + ": " + e.message); });
  }
  document.querySelectorAll("#cc-actions form").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = {};
      Array.prototype.forEach.call(form.elements, function (f) {
        if (!f.name) { return; }
        if (f.value === "" && f.name === "satisfaction") { return; }
        body[f.name] = (f.type === "number" || f.name === "satisfaction") ? Number(f.value) : f.value;
      });
      act(form.getAttribute("data-action"), body, form.querySelector("button")).then(function () {
        if (drawerErr && drawerErr.hidden) { form.reset(); }
      });
    });
  });

  // ---- start ------------------------------------------------------------------------------
  // The snapshot and the socket at once: the page does not wait for the socket to show the state.
  resync();
  connect();
  loadBoundary("street");
})();
