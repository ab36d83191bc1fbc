// The queue beside the map: open events by urgency, filtered by the form above it; each row's countdown.
import {countdown, el} from "../common.js";
import {syncEventMarker} from "./layers.js";
import {SCREEN, SEV_ORDER, T, cfg, events, filters, matches, page, pairs, schedule, state, streetName, terminal,
        urgent} from "./store.js";

// Rows in the DOM; the rest are counted (filters narrow it down). The big screen shows its first few.
const QUEUE_LIMIT = SCREEN ? 40 : 300;
// The filters are remembered per user in this browser: a reload (or a day later) shows the same queue.
const FILTERS_KEY = "cc-filters:" + cfg.user;
const filterForm = document.getElementById("cc-filters");
function fillSelect(name, options) {
  var sel = filterForm && filterForm.elements[name];
  if (!sel) { return; }
  options.forEach(function (p) { var o = el("option", "", p[1]); o.value = p[0]; sel.appendChild(o); });
}
if (filterForm) {
  fillSelect("street", cfg.streets.map(function (s) { return [String(s.id), s.name]; }));
  fillSelect("severity", pairs(cfg.labels.severity));
  fillSelect("status", pairs(cfg.labels.status).filter(function (p) { return !terminal[p[0]]; }));
  fillSelect("source", pairs(cfg.labels.source));
  fillSelect("problem_type", cfg.problemTypes.map(function (p) { return [p.code, p.code + " " + p.name]; }));
  var onFilter = function () {
    Object.keys(filters).forEach(function (k) { filters[k] = (filterForm.elements[k].value || "").trim(); });
    try { localStorage.setItem(FILTERS_KEY, JSON.stringify(filters)); } catch (e) { /* private mode: not kept */ }
    var now = Date.now();
    events.forEach(function (row, id) { syncEventMarker(id, now); });
    state.queueDirty = true;
    schedule();
  };
  filterForm.addEventListener("input", onFilter);
  filterForm.addEventListener("change", onFilter);
  // "Clear filters": the form resets after this event, then the filters follow.
  filterForm.addEventListener("reset", function () { setTimeout(onFilter, 0); });
  var saved = null;
  try { saved = JSON.parse(localStorage.getItem(FILTERS_KEY) || "null"); } catch (e) { saved = null; }
  if (saved && typeof saved === "object") {
    Object.keys(filters).forEach(function (k) {
      var field = filterForm.elements[k], value = typeof saved[k] === "string" ? saved[k] : "";
      if (!field || !value) { return; }
      field.value = value;
      // A remembered option that no longer exists (a street out of the user's areas) is dropped.
      if (field.value === value) { filters[k] = value; } else { field.value = ""; }
    });
  }
}
// Urgency: the nearest unmet deadline first (overdue ones are in the past, so they lead); then the
// more severe colour; events with no running clock last, oldest first.
function byUrgency(a, b) {
  if (a._due !== b._due) { return a._due < b._due ? -1 : 1; }
  var s = (SEV_ORDER[a.severity] || 9) - (SEV_ORDER[b.severity] || 9);
  return s || (a._created - b._created) || (a.id - b.id);
}
const queueEl = document.getElementById("cc-queue");
export const rowEls = new Map();
function buildRow(row) {
  var li = el("li", "cc-row");
  li.setAttribute("data-id", row.id);
  if (!SCREEN) { li.tabIndex = 0; }
  li.appendChild(el("span", "cc-sev"));
  li.appendChild(el("span", "cc-id"));
  li.appendChild(el("span", "cc-pt"));
  li.appendChild(el("span", "cc-cd"));
  li.appendChild(el("span", "cc-meta"));
  return li;
}
function fillRow(li, row) {
  li._ver = row.version + ":" + row.updated_at + ":" + row._due;
  li.className = "cc-row sev-" + row.severity + (row.id === state.selectedId ? " selected" : "");
  var c = li.children;
  c[0].textContent = cfg.labels.severity[row.severity] || row.severity;
  c[1].textContent = "#" + row.id;
  c[2].textContent = row.problem_type_name || row.problem_type_code;
  c[4].textContent = [streetName[row.street_id] || "", cfg.labels.status[row.status] || row.status,
                      cfg.labels.source[row.source] || row.source, row.address || ""].filter(Boolean).join(" · ");
  li._due = row._due;
}
export function tickRow(li, now) {
  var cd = li.children[3];
  if (li._due === Infinity) { cd.textContent = T.noDeadline; li.classList.remove("late"); return; }
  var left = li._due - now;
  cd.textContent = countdown(left);
  li.classList.toggle("late", left <= 0);
}
export function renderQueue(now) {
  if (!queueEl) { return; }
  var list = [];
  events.forEach(function (row) { if (matches(row) && (!SCREEN || urgent(row, now))) { list.push(row); } });
  list.sort(byUrgency);
  var shown = list.slice(0, QUEUE_LIMIT);
  var keep = new Set();
  for (var i = 0; i < shown.length; i++) {
    var row = shown[i], li = rowEls.get(row.id);
    if (!li) { li = buildRow(row); rowEls.set(row.id, li); }
    if (li._ver !== row.version + ":" + row.updated_at + ":" + row._due || li._sel !== (row.id === state.selectedId)) {
      fillRow(li, row); li._sel = row.id === state.selectedId;
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
    if (li) { page.open(Number(li.getAttribute("data-id")), true); }
  });
  queueEl.addEventListener("keydown", function (e) {
    var li = e.target.closest(".cc-row");
    if (li && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); page.open(Number(li.getAttribute("data-id")), true); }
  });
}
