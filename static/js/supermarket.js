/* The one-thing supermarket (/catalog/supermarket/): counts what is picked, and filters the rows by department,
   matter kind and keyword in the page, so filtering never wipes the scenario being composed (a hidden row
   that is ticked stays ticked and is sent with the form). No inline script: the Content Security Policy. */
(function () {
  "use strict";
  var form = document.getElementById("compose");
  var filters = document.getElementById("pick-filters");
  if (!form || !filters) { return; }
  var textNode = document.getElementById("supermarket-text");
  var shownText = textNode ? JSON.parse(textNode.textContent) : "{shown} / {total}";
  var rows = Array.prototype.slice.call(form.querySelectorAll("tr[data-dept]"));

  function recount() {
    var depts = {}, n = 0, by = {supervision: 0, enforcement: 0};
    form.querySelectorAll("input[type=checkbox][data-dept]:checked").forEach(function (box) {
      depts[box.dataset.dept] = 1; n += 1;
      var sel = form.querySelector("select[name='" + box.dataset.kindSelect + "']");
      if (sel && sel.value in by) { by[sel.value] += 1; }
    });
    form.querySelector("[data-count=departments]").textContent = Object.keys(depts).length;
    form.querySelector("[data-count=items]").textContent = n;
    form.querySelector("[data-count=supervision]").textContent = by.supervision;
    form.querySelector("[data-count=enforcement]").textContent = by.enforcement;
  }

  function applyFilters() {
    var dept = filters.elements.department.value;
    var kind = filters.elements.kind.value;
    var q = filters.elements.q.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var match = (!dept || row.dataset.dept === dept) &&
        (!kind || !("kind" in row.dataset) || row.dataset.kind === kind) &&
        (!q || row.dataset.text.toLowerCase().indexOf(q) !== -1);
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    document.getElementById("pick-shown").textContent =
      shownText.replace("{shown}", shown).replace("{total}", rows.length);
  }

  filters.addEventListener("submit", function (event) {
    event.preventDefault();  // no reload: the picks stay
    applyFilters();
  });
  filters.addEventListener("change", applyFilters);
  filters.elements.q.addEventListener("input", applyFilters);
  form.addEventListener("change", recount);
  recount();
  applyFilters();
})();
