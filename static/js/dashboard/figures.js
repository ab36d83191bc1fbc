// The header's counters, today's figures (the big screen's panels) and the big screen's clock.
import {el, getJSON} from "../common.js";
import {SCREEN, cfg, events, isOverdue, officers} from "./store.js";

function setCount(name, value) {
  document.querySelectorAll('[data-count="' + name + '"]').forEach(function (b) { b.textContent = value; });
}
export function renderCounters(now) {
  var sev = {red: 0, orange: 0, yellow: 0, blue: 0}, overdue = 0;
  events.forEach(function (row) { sev[row.severity] = (sev[row.severity] || 0) + 1; if (isOverdue(row, now)) { overdue++; } });
  Object.keys(sev).forEach(function (k) { setCount("open-" + k, sev[k]); });
  setCount("open-total", events.size);
  setCount("overdue", overdue);
  // Signed on (not off duty), and of them who the ranking can pick: not on a break, a fresh position.
  var onDuty = 0, dispatchable = 0, freshAfter = now - cfg.positionFreshSeconds * 1000;
  officers.forEach(function (o) {
    if (o.duty_status === "off_duty") { return; }
    onDuty++;
    if (o.duty_status !== "on_break" && o.last_lat !== null && o.last_lat !== undefined && o.last_position_at &&
        Date.parse(o.last_position_at) >= freshAfter) { dispatchable++; }
  });
  setCount("on-duty", onDuty);
  setCount("dispatchable", dispatchable);
}
// The analytics figures (the desk's on-time rate too) give rates in percent already (one decimal).
function percent(value) { return value === null || value === undefined ? "–" : value + "%"; }
function loadFigures() {
  if (SCREEN && cfg.screenFiguresUrl) {
    // The big screen shows the analytics figures (the same as /reports/ and /api/v1/stats/events/).
    return getJSON(cfg.screenFiguresUrl).then(function (f) {
      setCount("on-time", percent(f.on_time.rate));
      renderFigures(f);
    }).catch(function () { /* next round */ });
  }
  return getJSON(cfg.figuresUrl).then(function (f) {
    setCount("on-time", percent(f.on_time.rate));
    setCount("backlog", f.submissions_backlog);
  }).catch(function () { /* next round */ });
}
// Today's figures now and then: more often on the big screen, which shows them all.
export function startFigures() {
  loadFigures();
  // The desk checks more often: its counters include the backlog of machine reports, which moves in bursts.
  setInterval(loadFigures, SCREEN ? 15000 : 10000);
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
  document.querySelectorAll("[data-fig=date]").forEach(function (e) { e.textContent = f.date_to; });
  document.querySelectorAll("[data-fig=today-total]").forEach(function (e) { e.textContent = f.received; });
  var sevMax = Math.max.apply(null, f.by_severity.map(function (s) { return s.count; }).concat([1]));
  bars("fig-severity", f.by_severity.map(function (s) { return {label: s.label, value: s.count, cls: "sev-" + s.severity}; }), sevMax);
  var src = f.by_source.filter(function (s) { return s.count; });
  bars("fig-source", src.map(function (s) { return {label: s.label, value: s.count}; }),
       Math.max.apply(null, src.map(function (s) { return s.count; }).concat([1])));
  bars("fig-on-time", f.on_time.stages.map(function (s) { return {label: s.label, value: s.on_time_rate || 0, rate: s.on_time_rate}; }), 100,
       function (it) { return percent(it.rate); });
  var top = f.top_problem_types;
  bars("fig-top", top.map(function (t) { return {label: t.name || t.code, value: t.count}; }),
       Math.max.apply(null, top.map(function (t) { return t.count; }).concat([1])));
}
// 24-hour times in the district's zone and the page's language (a desk browser set to en-US or another
// zone must not show "12:13:56 AM" or a shifted hour).
const CLOCK_FORMAT = {timeZone: cfg.timeZone, hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit"};
const clock = document.getElementById("screen-clock");
function tickClock() { clock.textContent = new Date().toLocaleTimeString(cfg.locale, CLOCK_FORMAT); }
if (clock) { tickClock(); setInterval(tickClock, 1000); }
