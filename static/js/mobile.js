/* The officers' phone page (/m/): countdowns, task actions through the REST API (session + CSRF,
 * If-Match with the task's ETag), GPS pings while the page is open, and the officer's own stream
 * (/ws/officer/): a new or reassigned task's card appears with a tone and a vibration, a withdrawn one
 * goes, the duty status follows. Only while the socket is down does the page poll (a quiet refresh);
 * it re-syncs when the socket comes back. No library: a phone on a weak signal should load little. */
import {countdown, errorText, readConfig, tones} from "./common.js";

var config = readConfig("mobile-config");
var T = config.messages;
var csrf = document.getElementById("csrf").value;
// The phone's clock may be off: count down against the server's.
var clockOffset = Date.parse(config.serverNow) - Date.now();
var busy = false;

function tick() {
  var now = Date.now() + clockOffset;
  document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
    var left = Date.parse(el.dataset.due) - now;
    var late = left < 0;
    el.classList.toggle("late", late);
    el.classList.toggle("soon", !late && left < 60000);
    el.textContent = el.dataset.stage + " · " + (late ? T.late + " " : T.left + " ") + countdown(Math.abs(left));
  });
}

function refusal(status, body) { return errorText(status, body, T.failed, {fieldNames: false}); }

function show(card, text, ok) {
  var box = card.querySelector(".msg");
  box.hidden = false;
  box.textContent = text;
  box.className = "msg " + (ok ? "ok" : "err");
}

function flash(text) {
  var el = document.getElementById("flash");
  el.textContent = text;
  el.hidden = false;
  window.clearTimeout(flash.timer);
  flash.timer = window.setTimeout(function () { el.hidden = true; }, 6000);
}

function send(url, body, etag) {
  var headers = { "X-CSRFToken": csrf, "Accept": "application/json" };
  if (etag) headers["If-Match"] = etag;
  if (!(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(body || {});
  }
  return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: body })
    .then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { ok: r.ok, status: r.status, data: data };
      });
    });
}

function act(card, action, button) {
  var id = card.dataset.id;
  var body = {};
  if (action === "decline") {
    var reason = card.querySelector("textarea[name=reason]").value.trim();
    if (!reason) { show(card, T.reasonRequired, false); return; }
    if (!window.confirm(T.confirmDecline)) return;
    body = { reason: reason };
  } else if (action === "resolve") {
    var form = card.querySelector("form.resolve");
    if (!form.result.value.trim()) { show(card, T.resultRequired, false); return; }
    if (form.photos.files.length > config.maxPhotos) { show(card, T.tooMany + " (≤ " + config.maxPhotos + ")", false); return; }
    body = new FormData(form);
    if (!form.photos.files.length) body.delete("photos");  // no photo: no empty file part either
  }
  busy = true;
  button.disabled = true;
  show(card, T.working, true);
  send(config.eventsUrl + id + "/" + action + "/", body, card.dataset.etag)
    .then(function (res) {
      if (res.ok) {
        flash(T.submitted + " · #" + id + " " + button.textContent.trim());
        refresh(true, id);  // focus stays on this task's next step (or the next task when it is done)
      } else {
        // Refused (someone else moved the task on, or it is not ours any more): say why; the next
        // quiet refresh shows the task as it now stands.
        show(card, refusal(res.status, res.data), false);
        button.disabled = false;
      }
    })
    .catch(function () { show(card, T.network, false); button.disabled = false; })
    .then(function () { busy = false; });
}

document.addEventListener("click", function (e) {
  var button = e.target.closest("button[data-action]");
  if (!button) return;
  act(button.closest(".task"), button.dataset.action, button);
});

// Replace the task list (and the duty status, today's completed tasks) with a fresh copy of the page's,
// unless the officer is typing in it. `focusId`: the task whose next control takes the focus.
function refresh(force, focusId) {
  var list = document.getElementById("tasks");
  var editing = list.contains(document.activeElement) && /TEXTAREA|INPUT/.test(document.activeElement.tagName);
  var filled = Array.prototype.some.call(list.querySelectorAll("textarea"), function (t) { return t.value.trim(); })
    || Array.prototype.some.call(list.querySelectorAll("input[type=file]"), function (f) { return f.files.length; });
  if (!force && (busy || editing || filled)) return Promise.resolve();
  var focused = focusId || focusedTask(), started = Date.now();
  return fetch(window.location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
    .then(function (r) {
      if (r.redirected || !r.ok) { if (r.status === 403 || r.redirected) window.location.reload(); return null; }
      return r.text();
    })
    .then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("tasks");
      if (!fresh) return;
      var order = cardIds();
      list.innerHTML = fresh.innerHTML;
      ["done-today", "m-status"].forEach(function (id) {
        var mine = document.getElementById(id), theirs = doc.getElementById(id);
        if (mine && theirs) { mine.innerHTML = theirs.innerHTML; mine.dataset.status = theirs.dataset.status || ""; }
      });
      var cfg = readConfig("mobile-config", doc);
      if (cfg) clockOffset = Date.parse(cfg.serverNow) - Date.now();
      replayPushes(started);
      if (focused) focusTask(focused, order);
      tick();
    })
    .catch(function () { /* offline for a moment: the next refresh tries again */ });
}

// What the stream did while a refresh was on its way (its copy of the page may predate it): done again.
var pushed = [];
function remember(id, card) {
  var now = Date.now();
  pushed = pushed.filter(function (p) { return now - p.at < 60000 && p.id !== id; });
  pushed.push({ id: id, card: card, at: now });
}
function replayPushes(since) {
  pushed.forEach(function (p) {
    if (p.at < since) return;
    var shown = document.getElementById("task-" + p.id);
    if (!p.card && shown) shown.remove();
    else if (p.card && !shown) insertCard(p.card.cloneNode(true), p.due);
  });
  updateCount();
}

// --- focus: never dropped to <body> by a refresh or a card that goes ------------------------------
function cardIds() {
  return Array.prototype.map.call(document.querySelectorAll("#tasks .task"), function (c) { return c.dataset.id; });
}
function focusedTask() {
  var card = document.activeElement && document.activeElement.closest && document.activeElement.closest(".task");
  return card ? card.dataset.id : null;
}
// The task's next step first (its action button, or the decline summary), else its map link.
function firstControl(card) {
  return card.querySelector(".actions button:not([disabled])") || card.querySelector(".actions summary")
    || card.querySelector(".nav a");
}
// The task's next control; when it is gone, the task that followed it (or preceded it) in `order`,
// else the list's heading.
function focusTask(id, order) {
  var card = document.getElementById("task-" + id);
  if (!card && order) {
    var at = order.indexOf(String(id));
    var rest = order.slice(at + 1).concat(order.slice(0, Math.max(at, 0)).reverse());
    for (var i = 0; i < rest.length && !card; i++) card = document.getElementById("task-" + rest[i]);
  }
  var target = card ? firstControl(card) : null;
  (target || document.getElementById("tasks-title")).focus();
}

// --- the officer's stream ---------------------------------------------------------------------
var linkEl = document.getElementById("link");
var announceEl = document.getElementById("announce");
var socket = null, retry = 0, lastSeq = null, pollTimer = null, pingTimer = null;

function setLink(state) {
  linkEl.dataset.link = state;
  linkEl.textContent = state === "live" ? T.live : state === "down" ? T.polling : T.connecting;
  document.body.dataset.link = state;
}
function updateCount() {
  var n = document.querySelectorAll("#tasks .task").length;
  document.querySelector("#tasks .m-count").textContent = n;
  var empty = document.querySelector("#tasks .empty");
  if (empty) empty.hidden = n > 0;
}
// Only the new task is announced (the list's countdowns change every second: no live region on it).
function announce(text) {
  announceEl.textContent = "";
  window.setTimeout(function () { announceEl.textContent = text; }, 50);
}
function beforeCard(due) {
  // The first card whose clock runs out later than this one (cards without a clock come last).
  var cards = document.querySelectorAll("#tasks .task");
  for (var i = 0; i < cards.length; i++) {
    var cd = cards[i].querySelector(".countdown[data-due]");
    if (!cd || (due && Date.parse(cd.dataset.due) > Date.parse(due))) return cards[i];
  }
  return null;
}

function insertCard(card, due) {
  var list = document.getElementById("tasks");
  var next = beforeCard(due);
  if (next) list.insertBefore(card, next); else list.insertBefore(card, list.querySelector(".empty"));
}

function placeCard(task, html, kind) {
  var doc = new DOMParser().parseFromString(html, "text/html");
  var card = doc.querySelector(".task");
  if (!card) return;
  var old = document.getElementById(card.id);
  if (old) {
    var editing = old.contains(document.activeElement) || old.querySelector("textarea") && old.querySelector("textarea").value;
    if (editing) return;  // the officer is working in it: the next refresh brings it up to date
    old.replaceWith(card);
  } else {
    insertCard(card, task.due_at);
  }
  remember(String(task.id), card.cloneNode(true));
  pushed[pushed.length - 1].due = task.due_at;
  card.classList.add("fresh");
  card.dataset.arrived = kind;
  updateCount();
  tick();
  alertTask(task, kind);
}

function taskArrived(msg) {
  var task = msg.task;
  return fetch(config.taskUrl.replace(/0\/$/, task.id + "/"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
    .then(function (r) { return r.ok ? r.text() : null; })
    .then(function (html) { if (html) placeCard(task, html, msg.type); })
    .catch(function () { refresh(false); });
}

function taskWithdrawn(msg) {
  remember(String(msg.task.id), null);
  var card = document.getElementById("task-" + msg.task.id);
  if (!card) return;
  var hadFocus = card.contains(document.activeElement), order = cardIds();
  card.remove();
  updateCount();
  announce(T.withdrawnTask + " #" + msg.task.id);
  if (hadFocus) focusTask(msg.task.id, order);
}

function receive(msg) {
  if (msg.type === "hello") { lastSeq = null; refresh(false); return; }  // (re)connected: re-sync
  if (typeof msg.seq === "number") {
    var gap = lastSeq !== null && msg.seq !== lastSeq + 1;
    lastSeq = msg.seq;
    if (gap) refresh(false);
  }
  if (msg.type === "task.assigned" || msg.type === "task.reassigned") taskArrived(msg);
  else if (msg.type === "task.withdrawn") taskWithdrawn(msg);
  else if (msg.type === "officer.status") {
    var st = document.getElementById("m-status");
    st.dataset.status = msg.duty_status;
    st.textContent = config.dutyLabels[msg.duty_status] || msg.duty_status;
  }
}

function startPolling() {
  if (!pollTimer) pollTimer = window.setInterval(function () { refresh(false); }, config.refreshSeconds * 1000);
}
function stopPolling() { window.clearInterval(pollTimer); pollTimer = null; }

function connect() {
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + config.socketPath;
  try { socket = new WebSocket(url); } catch (e) { down(); return; }
  socket.onopen = function () {
    retry = 0;
    stopPolling();
    setLink("live");
    window.clearInterval(pingTimer);
    pingTimer = window.setInterval(function () {
      if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "ping" }));
    }, 25000);
  };
  socket.onmessage = function (e) {
    var msg;
    try { msg = JSON.parse(e.data); } catch (err) { return; }
    receive(msg);
  };
  socket.onclose = function () { socket = null; window.clearInterval(pingTimer); down(); };
  socket.onerror = function () { /* onclose follows */ };
}
// The link is down: poll until it is back, and try again with a growing pause (1 s … 30 s, jittered).
function down() {
  setLink("down");
  startPolling();
  retry = Math.min(retry + 1, 6);
  var wait = Math.min(1000 * Math.pow(2, retry - 1), 30000);
  window.setTimeout(connect, wait / 2 + Math.random() * wait / 2);
}

// --- sound and vibration ----------------------------------------------------------------------
// Browsers let a page play sound only after the user touched it: the button opens the audio (a tone
// made with WebAudio, no sound file) and says so; vibration needs no permission where it exists.
var audio = null;
var soundBtn = document.getElementById("sound");
function ensureAudio() {
  var Ctx = window.AudioContext || window.webkitAudioContext;
  if (!audio && Ctx) audio = new Ctx();
  if (audio && audio.state === "suspended") audio.resume().catch(function () {});
  return audio;
}
function beep(times) {
  var ctx = audio;
  if (ctx && ctx.state === "running") tones(ctx, times, 988);
}
soundBtn.addEventListener("click", function () {
  ensureAudio();
  soundBtn.textContent = T.soundOn;
  soundBtn.setAttribute("aria-pressed", "true");
  window.setTimeout(function () { beep(1); }, 50);
});
document.addEventListener("pointerdown", ensureAudio, { once: true });

function alertTask(task, kind) {
  var red = task.severity === "red";
  beep(red ? 3 : 2);
  if (navigator.vibrate) {
    try { navigator.vibrate(red ? [300, 100, 300, 100, 300] : [250, 100, 250]); } catch (e) { /* not allowed yet */ }
  }
  announce((kind === "task.reassigned" ? T.reassignedTask : T.newTask) + " #" + task.id + " " + (task.problem_type_name || ""));
}

// Tests: the link goes down and comes back.
window.mobileDebug = { drop: function () { if (socket) socket.close(); } };

// GPS: watchPosition while the page is open; one ping per pingSeconds at most.
var gps = document.getElementById("gps");
var lastSent = 0;
function ping(pos) {
  var now = Date.now();
  if (now - lastSent < config.pingSeconds * 1000) return;
  lastSent = now;
  var c = pos.coords;
  var body = {
    lat: c.latitude, lng: c.longitude, recorded_at: new Date(pos.timestamp || now).toISOString(), source: "mobile",
    accuracy: isFinite(c.accuracy) ? Math.round(c.accuracy * 10) / 10 : null,
    heading: c.heading !== null && isFinite(c.heading) ? c.heading : null
  };
  send(config.positionUrl, body).then(function (res) {
    var at = new Date().toTimeString().slice(0, 8);
    gps.textContent = res.ok ? T.gpsSent + " " + at + " (±" + Math.round(c.accuracy || 0) + " m)"
      : T.gpsFailed + "：" + refusal(res.status, res.data);
    gps.className = "m-gps " + (res.ok ? "ok" : "err");
  }).catch(function () { gps.textContent = T.gpsFailed; gps.className = "m-gps err"; lastSent = 0; });
}
if (navigator.geolocation) {
  gps.textContent = T.gpsWaiting;
  navigator.geolocation.watchPosition(ping, function (err) {
    gps.textContent = err.code === 1 ? T.gpsDenied : T.gpsFailed + "：" + err.message;
    gps.className = "m-gps err";
  }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
} else {
  gps.textContent = T.gpsOff;
  gps.className = "m-gps err";
}

tick();
window.setInterval(tick, 1000);
setLink("connecting");
connect();
