// The drawer of the desk: one event's details, deadlines, photos, ranked candidates and timeline, and the
// actions on it, each a POST to the same REST API other clients use, with If-Match.
import {countdown, el, errorText, getJSON} from "../common.js";
import {T, cfg, events, pairs, schedule, state, streetName, terminal, upsertEvent} from "./store.js";

var drawer = document.getElementById("cc-drawer");
var drawerBody = document.getElementById("cc-drawer-body");
var drawerErr = document.getElementById("cc-drawer-error");
var drawerTitle = document.getElementById("cc-drawer-title");
var drawerHead = drawer ? drawer.querySelector(".cc-drawer-head") : null;
var current = null, etag = null, drawerSeq = 0;
var opener = null, focusOnRender = false;   // where focus returns on close; focus the drawer once it shows
// An error shows where the eye is: under the form or candidate whose button was pressed (`near`), else
// at the top of the drawer; scrolled into view either way.
function showError(text, near) {
  if (!drawerErr) { return; }
  drawerErr.hidden = !text;
  drawerErr.textContent = text || "";
  if (!text) { return; }
  var anchor = near || drawerHead;
  if (anchor && anchor.tagName === "LI") { anchor.appendChild(drawerErr); }   // inside a list: in its item
  else if (anchor && anchor.nextElementSibling !== drawerErr) { anchor.insertAdjacentElement("afterend", drawerErr); }
  drawerErr.scrollIntoView({block: "nearest"});
}
function csrf() {
  var i = document.querySelector("input[name=csrfmiddlewaretoken]");
  return i ? i.value : "";
}
function refusal(status, body) { return errorText(status, body, T.failed); }
// Opens the event's drawer (false on the big screen, which has none).
export function openDrawer(id) {
  if (!drawer) { return false; }
  if (drawer.hidden || !drawer.contains(document.activeElement)) { opener = document.activeElement; }
  focusOnRender = true;
  state.selectedId = id;
  state.queueDirty = true; schedule();
  drawer.hidden = false;
  showError("");
  refreshDrawer();
  return true;
}
function closeDrawer() {
  if (!drawer) { return; }
  var id = state.selectedId;
  var hadFocus = drawer.contains(document.activeElement);
  drawer.hidden = true; state.selectedId = null; current = null; etag = null;
  state.queueDirty = true; schedule();
  // Focus goes back where it came from (the row), never to <body>.
  if (hadFocus || document.activeElement === document.body) {
    var back = opener && opener.isConnected && opener !== document.body ? opener
      : document.querySelector('#cc-queue .cc-row[data-id="' + id + '"]') || document.getElementById("cc-queue");
    if (back) { back.focus(); }
  }
  opener = null;
}
var closeBtn = document.getElementById("cc-drawer-close");
if (closeBtn) { closeBtn.addEventListener("click", closeDrawer); }
document.addEventListener("keydown", function (e) { if (e.key === "Escape" && drawer && !drawer.hidden) { closeDrawer(); } });

export function refreshDrawer() {
  if (state.selectedId === null || !drawer) { return Promise.resolve(); }
  var id = state.selectedId, mine = ++drawerSeq;
  var url = cfg.eventsUrl + id + "/";
  var detail = fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
    return r.json().catch(function () { return null; }).then(function (b) { return {ok: r.ok, status: r.status, body: b, etag: r.headers.get("ETag")}; });
  });
  var cands = cfg.canCommand ? getJSON(url + "candidates/").catch(function () { return null; }) : Promise.resolve(null);
  state.drawerLoading++;
  return Promise.all([detail, cands]).finally(function () { state.drawerLoading--; }).then(function (res) {
    if (mine !== drawerSeq || id !== state.selectedId) { return; }
    var d = res[0];
    if (!d.ok) { showError(d.status === 404 ? T.gone : refusal(d.status, d.body)); takeFocus(); return; }
    current = d.body; etag = d.etag;
    renderDrawer(current, res[1]);
    takeFocus();
  }).catch(function (e) { showError(T.failed + ": " + e.message); });
}
function takeFocus() {
  if (focusOnRender && drawerTitle) { focusOnRender = false; drawerTitle.focus(); }
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
// 24-hour times in the district's zone and the page's language (a desk browser set to en-US or another
// zone must not show "12:13:56 AM" or a shifted hour).
const TIME_FORMAT = {timeZone: cfg.timeZone, hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
                     hour: "2-digit", minute: "2-digit", second: "2-digit"};
function fmtTime(iso) { return iso ? new Date(iso).toLocaleString(cfg.locale, TIME_FORMAT) : ""; }
function renderDrawer(ev, cands) {
  drawerTitle.textContent = "#" + ev.id + " " + (ev.problem_type_name || ev.problem_type) + " · " + ev.severity_label + " · " + ev.status_label;
  drawer.className = "cc-drawer sev-" + ev.severity;
  if (drawerBody.contains(drawerErr)) { drawerHead.insertAdjacentElement("afterend", drawerErr); }  // kept, not cleared
  drawerBody.textContent = "";
  var d = section(T.details), dl = el("dl", "cc-kv");
  kv(dl, T.description, ev.description);
  // Names, never codes: an event without an address is placed by its community and grid (coordinates
  // only when it lies in neither).
  var place = [ev.community_name, ev.grid_name].filter(Boolean).join(" · ");
  kv(dl, T.address, ev.address || place || (ev.lat.toFixed(5) + ", " + ev.lng.toFixed(5)));
  var held = events.get(ev.id);   // the snapshot's row names the street by id when the detail has no name
  kv(dl, T.street, ev.street_name || streetName[ev.street_id || (held && held.street_id)] || ev.street_code);
  if (ev.address) { kv(dl, T.grid, place); }
  kv(dl, T.team, ev.team_name);
  kv(dl, T.officer, ev.officer_name);
  kv(dl, T.source, cfg.labels.source[ev.source] || ev.source);
  kv(dl, T.reporter, [ev.reporter_name, ev.reporter_phone].filter(Boolean).join(" "));
  kv(dl, T.subject, ev.subject_name);
  if (ev.subject && cfg.subjectFileUrl) {  // the subject's file (一户一档)
    var dd = el("dd", ""), a = el("a", "", ev.subject_name || ("#" + ev.subject));
    a.href = cfg.subjectFileUrl.replace("{id}", ev.subject);
    dd.appendChild(a); dl.appendChild(el("dt", "", T.subjectFile)); dl.appendChild(dd);
  }
  kv(dl, T.returnReason, ev.return_reason);
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
    if (ol.children.length) { cs.appendChild(ol); }
    renderExcluded(cs, cands);
    if (cfg.canCommand && cands.overridable) { renderOverride(cs, ev, cands.overridable); }
    drawerBody.appendChild(cs);
  }

  var ts = section(T.timeline), tl = el("ol", "cc-timeline");
  (ev.timeline || []).slice().reverse().forEach(function (t) {
    var li = el("li");
    li.appendChild(el("time", "", fmtTime(t.at)));
    li.appendChild(el("b", "", " " + (cfg.labels.action[t.action] || t.action)));
    var move = t.from_status && t.to_status && t.from_status !== t.to_status
      ? " " + (cfg.labels.status[t.from_status] || t.from_status) + " → " + (cfg.labels.status[t.to_status] || t.to_status) : "";
    li.appendChild(el("span", "", move + ((t.actor_name || t.actor) ? " · " + (t.actor_name || t.actor) : "") + (t.note ? " · " + t.note : "")));
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
// Why the ranking left officers out ("37 人定位超过 5 分钟未更新；1 人非承接该事项赋权的街道队员"): never an
// empty heading when automatic dispatch found nobody.
function renderExcluded(cs, cands) {
  var excluded = cands.excluded || [];
  if (!cands.eligible) { cs.appendChild(el("p", "cc-none-eligible", T.noneEligible)); }
  if (!excluded.length) { return; }
  var box = el("div", "cc-excluded");
  box.appendChild(el("b", "", T.excludedHead));
  var ul = el("ul");
  excluded.forEach(function (x) {
    var li = el("li", "", T.excludedItem.replace("{n}", x.count).replace("{label}", x.label));
    li.setAttribute("data-reason", x.reason);
    ul.appendChild(li);
  });
  box.appendChild(ul);
  cs.appendChild(box);
}
// The override: any on-duty officer of the street the ranking left out, with the reasons shown as a
// warning, a confirmation and a reason (the API refuses without them and records both).
var overrideSeq = 0;
function renderOverride(cs, ev, list) {
  var form = el("form", "cc-override"), n = ++overrideSeq;
  form.appendChild(el("h4", "", T.overrideHead));
  if (!list.length) { form.appendChild(el("p", "cc-reasons", T.overrideNone)); cs.appendChild(form); return; }
  function field(labelText, control, id) {
    var label = el("label", "", labelText);
    label.htmlFor = id; control.id = id;
    var row = el("div", "cc-override-row");
    row.appendChild(label); row.appendChild(control);
    form.appendChild(row);
  }
  var select = el("select");
  select.name = "officer"; select.required = true;
  list.forEach(function (o) {
    var opt = el("option", "", o.name + " (" + o.badge_no + ") · " + (cfg.labels.duty[o.duty_status] || o.duty_status) +
      " · " + T.rank + " " + o.rank + (o.distance_m !== null ? " · " + Math.round(o.distance_m) + T.meters : ""));
    opt.value = o.officer;
    select.appendChild(opt);
  });
  field(T.overrideOfficer, select, "cc-override-officer-" + n);
  var why = el("p", "cc-override-why");
  why.setAttribute("aria-live", "polite");
  form.appendChild(why);
  function showWhy() {
    var o = list.filter(function (x) { return String(x.officer) === select.value; })[0];
    why.textContent = o ? T.overrideWhy + o.excluded.map(function (x) { return x.label; }).join("；") : "";
  }
  select.addEventListener("change", showWhy);
  showWhy();
  var reason = el("input");
  reason.name = "reason"; reason.required = true; reason.maxLength = 500;
  field(T.overrideReason, reason, "cc-override-reason-" + n);
  var confirmBox = el("input");
  confirmBox.type = "checkbox"; confirmBox.name = "override"; confirmBox.required = true;
  var confirmLabel = el("label", "cc-override-confirm");
  confirmLabel.appendChild(confirmBox);
  confirmLabel.appendChild(document.createTextNode(" " + T.overrideConfirm));
  form.appendChild(confirmLabel);
  var button = el("button", "", T.overrideSubmit);
  button.type = "submit";
  form.appendChild(button);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = {officer: Number(select.value), override: confirmBox.checked, reason: reason.value};
    if (ev.officer) { body.reassign = true; }
    act("dispatch", body, button);
  });
  cs.appendChild(form);
}
export function tickDrawer(now) {
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
  var near = button ? (button.closest("form") || button.closest("li") || button) : null;
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
      if (r.status === 412) {
        showError(T.stale, near);
        // The refresh rebuilds the candidates: the error goes under the same form, or the candidates' list.
        return refreshDrawer().then(function () { showError(T.stale, near && near.isConnected ? near : drawer.querySelector(".cc-cands")); });
      }
      showError(refusal(r.status, b), near && near.isConnected ? near : null);
    });
  }).catch(function (e) { if (button) { button.disabled = false; } showError(T.failed + ": " + e.message, near); });
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
