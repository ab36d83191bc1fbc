// Live: the websocket, a seq per stream, and the snapshot that starts the state and mends every gap.
// Messages are queued (state.pending) and applied once per frame by main.js.
import {getJSON} from "../common.js";
import {refreshDrawer} from "./drawer.js";
import {takeEarlySnapshot} from "./snapshot.js";
import {SCREEN, T, cfg, dirtyEvents, dirtyOfficers, events, officers, schedule, state, stats, upsertEvent,
        upsertOfficer} from "./store.js";
import {reloadWarnings} from "./warnings.js";

var linkEl = document.getElementById("cc-link");
var banner = document.getElementById("cc-banner");
var ws = null, retry = 0, pingTimer = null, everConnected = false, hellos = 0;
var seqs = {};               // stream -> last seq applied
var buffering = null;        // messages that arrived while a snapshot was loading
export function streams() { return seqs; }
function setLink(state) {
  if (linkEl) { linkEl.setAttribute("data-state", state); linkEl.textContent = T[state] || state; }
  if (banner) { banner.hidden = state !== "down"; }
  document.body.setAttribute("data-link", state);
}
var snapshotSeq = 0, lastSnapshotAt = 0, snapshotInFlight = false;
export function resync() {
  var mine = ++snapshotSeq;
  snapshotInFlight = true;
  stats.resyncs++;
  buffering = buffering || [];
  setLink(ws && ws.readyState === 1 ? "resyncing" : (everConnected ? "down" : "connecting"));
  // The first snapshot was asked for by the page's head, while the scripts loaded.
  var early = takeEarlySnapshot();
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
    state.queueDirty = true;
    // Messages that came while we read: those at or below the snapshot's seq are already in it.
    held.forEach(function (m) { receive(m); });
    if (ws && ws.readyState === 1) { setLink("live"); }
    // The snapshot has no warnings: after a reconnect or a gap, which may have lost their pushes, they are
    // asked for again (the first time, main.js loads them).
    if (stats.snapshots > 1) { reloadWarnings(); }
    schedule();
    if (state.selectedId !== null && !events.has(state.selectedId) && !SCREEN) { refreshDrawer(); }
  }).catch(function () {
    if (mine === snapshotSeq) { snapshotInFlight = false; setTimeout(resync, 3000); }
  });
}
export function receive(msg) {
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
    // A warning's message carries the whole warning, which the snapshot does not: applied whatever its seq.
    if (msg.warning && last !== undefined && msg.seq !== last + 1) {
      if (msg.seq > last + 1) { resync(); }
      stats.messages++; state.pending.push(msg); schedule(); return;
    }
    if (last !== undefined && msg.seq <= last) { return; }            // already in the snapshot
    if (last !== undefined && msg.seq > last + 1) { resync(); return; } // a gap: we missed something
    seqs[msg.stream] = msg.seq;
  }
  stats.messages++;
  state.pending.push(msg);
  schedule();
}
export function connect() {
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
// Tests: the link goes down and comes back.
export function drop() { if (ws) { ws.close(); } }
