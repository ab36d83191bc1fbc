// Behaviour every page shares, as listeners instead of inline handlers (the Content Security Policy
// runs no onclick=/onchange= attributes):
//   <select data-submit-on-change>  submits its form when changed (the language menu)
//   <button data-confirm="question"> asks before it submits
//   <form data-no-submit>           never submits (filters applied by the page's script as you type)
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("select[data-submit-on-change]") && el.form) { el.form.submit(); }
  });
  document.addEventListener("click", function (e) {
    var el = e.target.closest && e.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) { e.preventDefault(); }
  });
  document.addEventListener("submit", function (e) {
    if (e.target.matches && e.target.matches("form[data-no-submit]")) { e.preventDefault(); }
  });
})();
