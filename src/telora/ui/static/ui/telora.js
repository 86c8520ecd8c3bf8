// Small behaviours of the shell that HTMX attributes do not cover. The Content-Security-Policy
// allows no inline script or handler (onclick=...): pages use the data- attributes below instead.
(function () {
  "use strict";

  function clearSearchResults(except) {
    document.querySelectorAll(".telora-search-results").forEach(function (box) {
      if (box !== except) { box.innerHTML = ""; }
    });
  }

  // Close the search dropdown on Escape or a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { clearSearchResults(null); }
    // "/" focuses the search box, as on many consoles, unless one is typing already.
    if (event.key === "/" && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
      var input = document.querySelector(".telora-search-input");
      if (input && input.offsetParent !== null) { event.preventDefault(); input.focus(); }
    }
  });
  document.addEventListener("click", function (event) {
    var form = event.target.closest(".telora-search-form");
    clearSearchResults(form ? form.querySelector(".telora-search-results") : null);
  });

  // Copy buttons: <button data-copy="#element-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.classList.add("btn-success");
      });
    }
  });

  // Forms that undo something ask first: <form data-confirm="Release +31 6 …?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);

  // A "choose all" box: <input type="checkbox" data-check-all="ids"> ticks its form's boxes named ids.
  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-check-all]");
    if (!all || !all.form) { return; }
    var name = all.getAttribute("data-check-all");
    all.form.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      if (box.name === name) { box.checked = all.checked; }
    });
  });
})();
