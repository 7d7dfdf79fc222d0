// Progress of a background import (console job page): poll the JSON endpoint, reload once the job ends.
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var bar = document.getElementById("import-job-bar");
  var status = document.getElementById("import-job-status");

  // 1348 → "1.348", as the server writes counts (sipas.format_vi.number_vi)
  function count(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "."); }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (job && job.finished) { window.location.reload(); return; }
        if (job && job.total) {
          // every row checked and staged: the one swap transaction is writing them
          bar.max = job.total;
          bar.value = job.done;
          status.textContent = "Đã kiểm tra " + count(job.done) + "/" + count(job.total) + " dòng, đang ghi vào cơ sở dữ liệu…";
        } else if (job && job.done) {
          // still reading the file (its number of rows is known only at the end)
          bar.removeAttribute("value");
          status.textContent = "Đã kiểm tra " + count(job.done) + " dòng…";
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
