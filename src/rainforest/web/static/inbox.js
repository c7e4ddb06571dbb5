// rainforest workbench: the header's count of what is new in the inbox (one request per page).
(function () {
  "use strict";
  var badge = document.getElementById("inbox-count");
  if (!badge) { return; }
  fetch(badge.getAttribute("data-src"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (answer) {
      if (!answer || !answer["new"]) { return; }
      badge.textContent = String(answer["new"]);
      badge.setAttribute("aria-label", answer["new"] + " new");
      badge.style.display = "inline-block";
    });
}());
