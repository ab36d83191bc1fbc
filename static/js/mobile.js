/* The officers' phone page (/m/): countdowns, task actions through the REST API (session + CSRF,
 * If-Match with the task's ETag), GPS pings while the page is open, and a quiet refresh of the list.
 * No library: a phone on a weak signal should load as little as possible. */
import {countdown, errorText, readConfig} from "./common.js";

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
  }
  busy = true;
  button.disabled = true;
  show(card, T.working, true);
  send(config.eventsUrl + id + "/" + action + "/", body, card.dataset.etag)
    .then(function (res) {
      if (res.ok) {
        flash(T.submitted + " · #" + id + " " + button.textContent.trim());
        refresh(true);
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

// Replace the task list with a fresh copy of the page's, unless the officer is typing in it.
function refresh(force) {
  var list = document.getElementById("tasks");
  var editing = list.contains(document.activeElement) && /TEXTAREA|INPUT/.test(document.activeElement.tagName);
  var filled = Array.prototype.some.call(list.querySelectorAll("textarea"), function (t) { return t.value.trim(); })
    || Array.prototype.some.call(list.querySelectorAll("input[type=file]"), function (f) { return f.files.length; });
  if (!force && (busy || editing || filled)) return;
  fetch(window.location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
    .then(function (r) {
      if (r.redirected || !r.ok) { if (r.status === 403 || r.redirected) window.location.reload(); return null; }
      return r.text();
    })
    .then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("tasks");
      if (!fresh) return;
      list.innerHTML = fresh.innerHTML;
      var cfg = readConfig("mobile-config", doc);
      if (cfg) clockOffset = Date.parse(cfg.serverNow) - Date.now();
      tick();
    })
    .catch(function () { /* offline for a moment: the next refresh tries again */ });
}

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
window.setInterval(function () { refresh(false); }, config.refreshSeconds * 1000);
