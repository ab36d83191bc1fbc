// The dispatcher's dashboard (/command/) and the big screen (/command/screen/): one entry for both pages.
//
// State comes from the snapshot (GET /api/v1/command/snapshot/) and is kept live by /ws/command/.
// Messages are queued and applied once per animation frame (a burst of 50 events/s costs one DOM
// pass per frame, not one per message). Each stream's seq is checked: a gap, or a reconnect, fetches
// the snapshot again. Every action is a POST to the same REST API other clients use, with If-Match.
// Text from the server is always set as text (textContent), never as HTML.
//
//   store.js    configuration, state, filters        layers.js   the map
//   queue.js    the queue and its filters            figures.js  counters, today's figures, clock
//   drawer.js   one event: details and actions       alerts.js   toasts, flash, tone
//   live.js     websocket, seq, snapshot resync      snapshot.js the first snapshot, asked for early
import {raiseAlert, raiseCaseAlert, sound} from "./alerts.js";
import {openDrawer, refreshDrawer, tickDrawer} from "./drawer.js";
import {renderCounters, startFigures} from "./figures.js";
import {eventMarkers, fitToEvents, headingLines, layerOn, loadBoundary, loadSubjects, loadVisits, map, syncEventMarker,
        syncOfficerMarker, visitMarkers} from "./layers.js";
import {connect, drop, receive, resync, streams} from "./live.js";
import {renderQueue, rowEls, tickRow} from "./queue.js";
import {applyWarning, hasWarning, loadWarnings} from "./warnings.js";
import {SCREEN, T, cfg, dirtyEvents, dirtyOfficers, events, isOverdue, officers, page, schedule, state, stats, terminal, upsertEvent,
        upsertOfficer} from "./store.js";

// Opening an event from the map, the queue or an alert; from the queue and alerts the map follows.
page.open = function (id, pan) {
  var row = events.get(id);
  if (openDrawer(id) && pan && row) { map.panTo([row.lat, row.lng]); }
};

window.ccDebug = {
  drop: drop,       // tests: the link goes down and comes back
  receive: receive, state: function () { return {events: events.size, officers: officers.size, headings: headingLines.size, seqs: streams()}; },
  hasEvent: function (id) { return events.has(id); }, hasMarker: function (id) { return eventMarkers.has(id); },
  hasVisit: function (id) { return visitMarkers.has(id); }, hasWarning: hasWarning,
  event: function (id) { return events.get(id) || null; },
  // Nothing waiting: no message unapplied, no drawer refresh due or under way.
  idle: function () { return !state.pending.length && !state.flushScheduled && !state.drawerStale && !state.drawerLoading; }
};

// ---- one DOM pass per frame ---------------------------------------------------------------
page.flush = function flush() {
  state.flushScheduled = false;
  var t0 = performance.now(), now = Date.now();
  var batch = state.pending; state.pending = [];
  batch.forEach(function (m) {
    if (m.type === "officer.moved" && m.officer) { upsertOfficer(m.officer); return; }
    if (m.type === "case.deadline" && m.case) { raiseCaseAlert(m.case); return; }
    if (m.warning) { applyWarning(m); return; }
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
    if (m.event.id === state.selectedId && !SCREEN) { state.drawerStale = true; }
  });
  sound();
  dirtyEvents.forEach(function (id) { syncEventMarker(id, now); });
  dirtyEvents.clear();
  if (layerOn("officers")) { dirtyOfficers.forEach(syncOfficerMarker); dirtyOfficers.clear(); }
  if (state.queueDirty) { renderQueue(now); state.queueDirty = false; }
  renderCounters(now);
  if (state.drawerStale) { state.drawerStale = false; refreshDrawer(); }
  fitToEvents();
  var ms = performance.now() - t0;
  stats.flushes++; stats.lastFlushMs = ms; stats.maxFlushMs = Math.max(stats.maxFlushMs, ms);
  if (!stats.readyAt && stats.snapshots) {
    stats.readyAt = performance.now();
    document.body.setAttribute("data-ready", "1");
    // Then what can wait: today's figures, subjects and grid lines (one server thread serves them in turn).
    startFigures();
    setTimeout(function () { loadSubjects(); loadBoundary("grid"); loadVisits(); }, 50);
  }
};
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
  // The big screen's list is of red and overdue events: an event falling overdue joins it.
  if (SCREEN) { state.queueDirty = true; schedule(); }
}, 1000);

// ---- start ------------------------------------------------------------------------------
// The snapshot and the socket at once: the page does not wait for the socket to show the state.
resync();
connect();
loadBoundary("street");
loadWarnings();
