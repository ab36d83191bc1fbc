// The dashboard's state, shared by its modules: the page's configuration, the open events and the
// officers (from the snapshot, kept live by the websocket), what changed since the last frame, the filters.
import {readConfig} from "../common.js";

export const cfg = readConfig("cc-config");
export const T = cfg.messages;
export const SCREEN = document.body.classList.contains("cc-screen");
export const SEV_ORDER = {red: 0, orange: 1, yellow: 2, blue: 3};
export const terminal = {};
cfg.terminal.forEach(function (s) { terminal[s] = true; });
export const streetName = {};
cfg.streets.forEach(function (s) { streetName[s.id] = s.name; });

export const events = new Map();      // id -> row (with ._due: nearest unmet deadline ms, ._ver)
export const officers = new Map();    // id -> row
export const dirtyEvents = new Set(), dirtyOfficers = new Set();
export const state = {
  pending: [],          // messages waiting for the next frame
  flushScheduled: false,
  queueDirty: true,
  selectedId: null,
  fitted: false,        // the map was fitted to the street boundaries or the events once
  drawerStale: false,   // the open event changed: the drawer refreshes in the next frame
  drawerLoading: 0,
};
export const stats = {messages: 0, flushes: 0, resyncs: 0, lastFlushMs: 0, maxFlushMs: 0};
window.ccStats = stats;      // read by tests and bench/dashboard.py

// What the modules ask of the page as a whole, wired by main.js: open an event's drawer (panning the
// map to it or not), and apply what changed in the next frame.
export const page = {open: function () {}, flush: function () {}};

// One DOM pass per frame. A hidden tab gets no animation frames: a timer keeps the state current there.
export function schedule() {
  if (state.flushScheduled) { return; }
  state.flushScheduled = true;
  if (document.hidden) { setTimeout(page.flush, 250); } else { requestAnimationFrame(page.flush); }
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
export function isOverdue(row, now) { return row._due !== Infinity && row._due <= now; }

// Apply one row: a newer or equal version replaces an older one; terminal statuses leave.
export function upsertEvent(row) {
  var held = events.get(row.id);
  if (held && held.version > row.version) { return false; }
  if (terminal[row.status]) {
    if (held) { events.delete(row.id); dirtyEvents.add(row.id); state.queueDirty = true; }
    return !!held;
  }
  events.set(row.id, prepare(row));
  dirtyEvents.add(row.id);
  state.queueDirty = true;
  return true;
}
export function upsertOfficer(row) {
  officers.set(row.id, row);
  dirtyOfficers.add(row.id);
}

// The queue's filters (the form in queue.js sets them); the map shows the same events as the queue.
export const filters = {q: "", street: "", severity: "", status: "", source: "", problem_type: ""};
export function matches(row) {
  if (filters.street && String(row.street_id) !== filters.street) { return false; }
  if (filters.severity && row.severity !== filters.severity) { return false; }
  if (filters.status && row.status !== filters.status) { return false; }
  if (filters.source && row.source !== filters.source) { return false; }
  if (filters.problem_type && row.problem_type_code !== filters.problem_type) { return false; }
  if (filters.q) {
    var q = filters.q.replace(/^#/, "").toLowerCase();
    if (String(row.id) !== q && (row.address || "").toLowerCase().indexOf(q) < 0 &&
        (streetName[row.street_id] || "").toLowerCase().indexOf(q) < 0 &&
        (row.problem_type_name || "").toLowerCase().indexOf(q) < 0 && (row.problem_type_code || "").toLowerCase().indexOf(q) < 0) {
      return false;
    }
  }
  return true;
}
// The big screen lists only what needs eyes now: red events and overdue ones.
export function urgent(row, now) { return row.severity === "red" || isOverdue(row, now); }
export function pairs(obj) { return Object.keys(obj).map(function (k) { return [k, obj[k]]; }); }
