// The monthly plan page: the selected day's route on a Leaflet map (vendored Leaflet, no CDN), and
// dragging a visit onto another day/officer cell (PATCH /api/v1/inspection-plans/{id}/visits/{vid}/).
// The keyboard way is the move form beside each visit (a plain POST): the drag is a shortcut.
(function () {
  "use strict";
  var el = document.getElementById("plan-config");
  if (!el) { return; }
  var config = JSON.parse(el.textContent);
  var csrf = document.getElementById("csrf").value;

  var mapEl = document.getElementById("route-map");
  if (mapEl && window.L) {
    var map = L.map(mapEl);
    var pts = config.route.slice().sort(function (a, b) { return a.lead - b.lead || a.order - b.order; });
    if (pts.length) {
      var byLead = {};
      pts.forEach(function (p) {
        (byLead[p.lead] = byLead[p.lead] || []).push([p.lat, p.lng]);
        L.marker([p.lat, p.lng], { title: p.order + ". " + p.name, alt: p.order + ". " + p.name })
          .bindTooltip(p.order + ". " + p.name).addTo(map);
      });
      Object.keys(byLead).forEach(function (k) { L.polyline(byLead[k], { weight: 3 }).addTo(map); });
      map.fitBounds(pts.map(function (p) { return [p.lat, p.lng]; }), { padding: [20, 20] });
    } else {
      map.setView([30.0, 120.5], 11);
    }
  }

  var dragged = null;
  document.addEventListener("dragstart", function (e) {
    var chip = e.target.closest && e.target.closest(".chip");
    if (chip) { dragged = chip; e.dataTransfer.setData("text/plain", chip.dataset.visit); }
  });
  document.addEventListener("dragover", function (e) {
    if (dragged && e.target.closest && e.target.closest("td.drop")) { e.preventDefault(); }
  });
  document.addEventListener("drop", function (e) {
    var cell = e.target.closest && e.target.closest("td.drop");
    if (!dragged || !cell) { return; }
    e.preventDefault();
    var body = { date: cell.dataset.day };
    if (cell.dataset.officer !== dragged.dataset.officer) {
      // The dragged officer's place in the team goes to the officer of the target row; the others stay.
      var team = dragged.dataset.team.split(",").filter(function (id) {
        return id && id !== dragged.dataset.officer && id !== cell.dataset.officer;
      }).map(Number);
      body.officers = team.concat([Number(cell.dataset.officer)]);
    }
    fetch(config.api + "visits/" + dragged.dataset.visit + "/", {
      method: "PATCH", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (r.ok) { window.location.reload(); return; }
      return r.json().then(function (j) {
        window.alert(config.messages.failed + ": " + JSON.stringify(j));
      });
    });
    dragged = null;
  });
})();
