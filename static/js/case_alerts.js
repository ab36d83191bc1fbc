// Deadlines on the leader's pages (/review/, /cases/): the `case.deadline` pushes of /ws/command/ (a
// case's step, an appeal or a colour appeal due soon, or overdue) shown as links to the item, in a polite
// live region. The desk shows the same pushes as toasts (dashboard/alerts.js). Text from the server is set
// as text, never as HTML.
(function () {
  "use strict";
  var box = document.getElementById("case-alerts");
  if (!box || !window.WebSocket) { return; }
  var retry = 0, pings = null;
  // The labels' prefix per kind (the data-* attributes of the box): a row without a kind is a case.
  var PREFIX = {appeal: "appeal", color_appeal: "colorAppeal"};
  function show(c) {
    var kind = PREFIX[c.kind] ? c.kind : "case", prefix = PREFIX[c.kind] || "case";
    var a = document.createElement("a");
    a.className = "case-alert" + (c.overdue ? " case-alert-overdue" : "");
    a.href = c.url;
    a.setAttribute("data-" + kind.replace("_", "-"), c.id);
    var b = document.createElement("b");
    b.textContent = box.dataset[prefix + (c.overdue ? "Overdue" : "Due")] + " " + c.number;
    a.appendChild(b);
    a.appendChild(document.createTextNode(" " + box.dataset[(kind === "case" ? "case" : "appeal") + "DueAt"] + " " +
                                          String(c.due_at || "").slice(0, 16).replace("T", " ")));
    box.hidden = false;
    box.insertBefore(a, box.firstChild);
    while (box.children.length > 5) { box.lastChild.remove(); }
  }
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + box.dataset.ws);
    ws.onopen = function () {
      retry = 0;
      clearInterval(pings);
      pings = setInterval(function () { if (ws.readyState === 1) { ws.send(JSON.stringify({type: "ping"})); } }, 25000);
      box.setAttribute("data-link", "live");
    };
    ws.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m && m.type === "case.deadline" && m.case) { show(m.case); }
    };
    ws.onclose = function (e) {
      clearInterval(pings);
      box.setAttribute("data-link", "down");
      if (e.code === 4401 || e.code === 4403) { return; }  // not signed in, or not a role of the feed
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, Math.min(1000 * Math.pow(2, retry), 30000));
    };
  }
  connect();
})();
