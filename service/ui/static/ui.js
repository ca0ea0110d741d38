// Progressive enhancement only: every page works without JavaScript, except the routing of the
// links into MLflow's own UI, whose fragment never reaches the server.
(function () {
  "use strict";
  // The MLflow client prints "View run" / "View experiment" links into MLflow's UI:
  // <tracking URI>/#/experiments/<id>/runs/<run_id> and <tracking URI>/#/experiments/<id>.
  // The tracking URI is this project's home page, which sends such a fragment to the matching page.
  var MLFLOW_ROUTES = [
    [/^\/experiments\/\d+\/runs\/([0-9A-Za-z-]+)(?:\/.*)?$/, function (m) { return "candidates/" + m[1]; }],
    [/^\/experiments\/(\d+)(?:\/.*)?$/, function (m) { return "experiments/" + m[1]; }],
    [/^\/models\/([^/]+)\/versions\/(\d+)(?:\/.*)?$/, function (m) { return "models/" + m[1] + "/versions/" + m[2]; }],
    [/^\/models\/([^/]+)\/?$/, function (m) { return "models/" + m[1]; }]
  ];
  function mlflowTarget(hash, root) {
    var path = hash.replace(/^#/, "").split("?")[0];
    for (var i = 0; i < MLFLOW_ROUTES.length; i++) {
      var m = MLFLOW_ROUTES[i][0].exec(path);
      if (m) return root + MLFLOW_ROUTES[i][1](m);
    }
    return null;
  }
  var root = document.body.getAttribute("data-home");
  if (root && window.location.pathname === root && window.location.hash.indexOf("#/") === 0) {
    var target = mlflowTarget(window.location.hash, root);
    if (target) window.location.replace(target);
  }
  // Signing in on the way to such a link keeps the fragment, so it is routed after sign-in.
  if (window.location.hash.indexOf("#/") === 0) {
    document.querySelectorAll('a[href*="/-/sign-in"]').forEach(function (a) {
      var url = new URL(a.href, window.location.href);
      var next = url.searchParams.get("next");
      if (next && next.indexOf("#") < 0) {
        url.searchParams.set("next", next + window.location.hash);
        a.href = url.pathname + url.search;
      }
    });
  }
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
