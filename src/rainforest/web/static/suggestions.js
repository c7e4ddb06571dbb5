// The board's suggestions panel: its shell (templates/_suggestions.html) names the fragment
// to load; the fragment is server-rendered HTML (forms with the session's CSRF token).
(function () {
  "use strict";
  var box = document.getElementById("suggestions-panel");
  if (!box || !box.dataset.src) { return; }
  fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
    .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error("HTTP " + r.status)); })
    .then(function (html) { box.innerHTML = html; box.setAttribute("aria-busy", "false"); })
    .catch(function (e) {
      box.textContent = "The suggestions could not be loaded (" + e.message + "): reload the page.";
      box.setAttribute("aria-busy", "false");
    });
}());
