// The customer screens: private/business fields, "next free or chosen" inputs, the sale form's totals.
(function () {
  "use strict";

  function showKind(form) {
    var checked = form.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : "private";
    form.querySelectorAll("[data-kind-only]").forEach(function (block) {
      block.hidden = block.getAttribute("data-kind-only") !== kind;
    });
  }

  function showChoice(group) {
    var name = group.getAttribute("data-choice-group");
    var checked = group.querySelector("input[name=" + name + "]:checked");
    var value = checked ? checked.value : "next";
    group.querySelectorAll("[data-show-when]").forEach(function (block) {
      block.hidden = block.getAttribute("data-show-when") !== value;
    });
  }

  function money(amount, currency) {
    return currency + " " + amount.toFixed(2);
  }

  function totals(form) {
    var monthly = 0, once = 0;
    form.querySelectorAll("input[data-recurring]:checked").forEach(function (input) {
      monthly += parseFloat(input.getAttribute("data-recurring")) || 0;
      (input.getAttribute("data-once") || "").split(" ").forEach(function (part) {
        once += parseFloat(part) || 0;
      });
    });
    form.querySelectorAll("[data-total]").forEach(function (cell) {
      var currency = cell.getAttribute("data-currency");
      cell.textContent = money(cell.getAttribute("data-total") === "recurring" ? monthly : once, currency);
    });
  }

  function init(root) {
    root.querySelectorAll("[data-kind-form]").forEach(showKind);
    root.querySelectorAll("[data-choice-group]").forEach(showChoice);
    root.querySelectorAll("[data-order-form]").forEach(totals);
  }

  document.addEventListener("change", function (event) {
    var kindForm = event.target.closest("[data-kind-form]");
    if (kindForm && event.target.name === "kind") { showKind(kindForm); }
    var group = event.target.closest("[data-choice-group]");
    if (group) { showChoice(group); }
    var order = event.target.closest("[data-order-form]");
    if (order) { totals(order); }
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();
