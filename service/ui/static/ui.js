// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  // "Compare selected" is enabled once two candidates are ticked.
  var form = document.getElementById("compare-form");
  if (form) {
    var button = document.getElementById("compare-button");
    var update = function () {
      var n = form.querySelectorAll('input[name="run"]:checked').length;
      button.disabled = n < 2;
      button.textContent = n >= 2 ? "Compare " + n + " candidates" : "Compare selected";
    };
    form.addEventListener("change", update);
    update();
  }
  // Error pages: a "Go back" button when there is somewhere to go back to.
  document.querySelectorAll("[data-back]").forEach(function (el) {
    if (window.history.length > 1) {
      el.hidden = false;
      el.addEventListener("click", function () { window.history.back(); });
    }
  });
  // Escape closes an open dropdown (the columns chooser) and returns focus to its toggle.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details[open]").forEach(function (d) {
      d.open = false;
      var summary = d.querySelector("summary");
      if (summary) summary.focus();
    });
  });
})();
