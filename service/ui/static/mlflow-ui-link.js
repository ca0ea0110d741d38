// On MLflow's own UI (served by mltracker): "Open in mltracker" opens the experiment, run or model
// that MLflow's page shows. mltracker's home page routes MLflow's "#/experiments/…" fragments.
(function () {
  "use strict";
  var link = document.getElementById("mltracker-link");
  if (!link) return;
  var home = link.getAttribute("data-base");
  function update() {
    link.href = window.location.hash.indexOf("#/") === 0 ? home + window.location.hash : home;
  }
  ["mouseover", "focus", "mousedown", "touchstart"].forEach(function (name) {
    link.addEventListener(name, update);
  });
  window.addEventListener("hashchange", update);
  update();
})();
