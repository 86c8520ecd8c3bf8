// Rows of catalogue forms (bands, allowances, one-time charges...): "Add a row" copies the
// formset's empty row and counts it in the management form.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) { return; }
    var name = button.getAttribute("data-add-row");
    var template = document.querySelector('template[data-empty-row="' + name + '"]');
    var total = document.querySelector('input[name="' + name + '-TOTAL_FORMS"]');
    var body = document.querySelector('[data-rowset="' + name + '"] tbody[data-rows]');
    if (!template || !total || !body) { return; }
    body.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, total.value));
    total.value = String(parseInt(total.value, 10) + 1);
    var first = body.lastElementChild && body.lastElementChild.querySelector("input, select");
    if (first) { first.focus(); }
  });
})();

