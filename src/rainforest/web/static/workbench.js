// rainforest workbench: figures, job progress, code search. No framework, no network beyond this server.
(function () {
  "use strict";
  // figures: Plotly specs embedded as JSON next to their <div>
  var config = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"]};
  if (window.Plotly) {
    document.querySelectorAll("div.figure[data-spec]").forEach(function (div) {
      var spec = JSON.parse(document.getElementById(div.getAttribute("data-spec")).textContent);
      window.Plotly.newPlot(div, spec.data, spec.layout, config);
    });
  }
  // figures fetched after the page (large ones: the page itself stays light)
  if (window.Plotly) {
    document.querySelectorAll("div.figure[data-src]").forEach(function (div) {
      fetch(div.getAttribute("data-src"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (f) {
          if (!f) { div.closest(".card").remove(); return; }
          var fig = div.closest("figure");
          fig.querySelector(".figure-title").textContent = f.title || "";
          fig.querySelector("figcaption").textContent = f.caption || "";
          window.Plotly.newPlot(div, f.spec.data, f.spec.layout, config);
        });
    });
  }
  // long work: poll each job shown as running, reload the page when one ends
  document.querySelectorAll("div.job[data-job-url]").forEach(function (box) {
    var url = box.getAttribute("data-job-url");
    var timer = window.setInterval(function () {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) { return; }
          box.querySelector("progress").value = job.progress;
          box.querySelector(".job-status").textContent = job.status;
          box.querySelector(".job-message").textContent = job.message;
          if (job.status === "done" || job.status === "failed") {
            window.clearInterval(timer);
            window.location.reload();
          }
        });
    }, 1000);
  });
  // code search: inputs with data-codes="waste" or "sector" fill their <datalist>
  document.querySelectorAll("input[data-codes]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var pending = null;
    input.addEventListener("input", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2) { return; }
        fetch("/api/codes?kind=" + input.getAttribute("data-codes") + "&q=" + encodeURIComponent(q), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (codes) {
            list.textContent = "";
            codes.forEach(function (c) {
              var option = document.createElement("option");
              option.value = c.code;
              option.label = c.code + " " + c.description + (c.hazardous ? " (hazardous)" : "");
              option.textContent = option.label;
              list.appendChild(option);
            });
          });
      }, 200);
    });
  });
})();
