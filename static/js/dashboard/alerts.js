// Alerts: a toast per red event or breach, the header flashing, and a tone made with WebAudio (no sound
// file), mutable.
import {el, tones} from "../common.js";
import {T, events, page} from "./store.js";

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
  tones(ctx, times);
}
var alertsEl = document.getElementById("cc-alerts");
var pendingBeeps = 0, alertsThisFlush = 0, alertsHidden = 0, summaryEl = null;
var MAX_ALERTS_PER_FLUSH = 3;
// A burst must not bury the page under toasts: a few per frame, the rest counted in one line.
function place(a) {
  if (++alertsThisFlush > MAX_ALERTS_PER_FLUSH) { alertsHidden++; return; }
  alertsEl.insertBefore(a, alertsEl.firstChild);
  while (alertsEl.children.length > 6) { alertsEl.lastChild.remove(); }
  setTimeout(function () { a.classList.add("old"); }, 15000);
  setTimeout(function () { a.remove(); }, 60000);
}
export function raiseAlert(kind, row, text) {
  pendingBeeps = Math.max(pendingBeeps, kind === "breach" ? 3 : 2);
  if (!alertsEl) { return; }
  var a = el("div", "cc-alert cc-alert-" + kind);
  a.setAttribute("data-event", row.id);
  a.appendChild(el("b", "", (kind === "breach" ? T.breach : T.redEvent) + " #" + row.id));
  a.appendChild(el("span", "", " " + text));
  a.addEventListener("click", function () { a.remove(); if (events.has(row.id)) { page.open(row.id, true); } });
  place(a);
}
// A case's step, an appeal or a colour appeal due soon or overdue (case.deadline, its `kind`; none is a
// case): a link to its page.
var PREFIX = {appeal: "appeal", color_appeal: "colorAppeal"};
export function raiseCaseAlert(c) {
  pendingBeeps = Math.max(pendingBeeps, c.overdue ? 2 : 1);
  if (!alertsEl) { return; }
  var kind = PREFIX[c.kind] ? c.kind : "case", prefix = PREFIX[c.kind] || "case";
  var a = el("a", "cc-alert cc-alert-" + (c.overdue ? "breach" : "case"));
  a.href = c.url;
  a.setAttribute("data-" + kind.replace("_", "-"), c.id);
  a.appendChild(el("b", "", T[prefix + (c.overdue ? "Overdue" : "Due")] + " " + c.number));
  a.appendChild(el("span", "", " " + T[kind === "case" ? "caseDueAt" : "appealDueAt"] + " " +
                               String(c.due_at || "").slice(0, 16).replace("T", " ")));
  place(a);
}
// After a frame's messages: one flash and one tone for all its alerts, the hidden ones counted.
export function sound() {
  if (pendingBeeps) { flash(); beep(pendingBeeps); pendingBeeps = 0; }
  if (alertsHidden && alertsEl) {
    if (!summaryEl || !summaryEl.isConnected) { summaryEl = el("div", "cc-alert cc-alert-more"); summaryEl._n = 0; }
    summaryEl._n += alertsHidden;
    summaryEl.textContent = "+" + summaryEl._n + " " + (T.moreAlerts || "");
    alertsEl.appendChild(summaryEl);
    alertsHidden = 0;
  }
  alertsThisFlush = 0;
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
