// Follows a background notice PDF conversion (no inline script: the console is served under a CSP).
(function () {
  "use strict";
  var box = document.getElementById("pdf-progress");
  if (!box) { return; }
  var text = document.getElementById("pdf-progress-text");
  var link = document.getElementById("pdf-progress-link");
  var statusUrl = box.getAttribute("data-status-url");
  var fileUrl = box.getAttribute("data-file-url");

  function poll() {
    fetch(statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) { return answer.json(); })
      .then(function (state) {
        if (state.state === "ready") {
          text.textContent = "Đã tạo xong bản PDF.";
          var resubmit = document.getElementById("pdf-progress-resubmit");
          if (resubmit) {  // issuing: post the same form again, now the PDF is ready
            resubmit.submit();
            return;
          }
          link.hidden = false;
          window.location.assign(fileUrl);
        } else if (state.state === "failed") {
          text.textContent = state.message || "Không tạo được tệp PDF. Vui lòng thử lại hoặc tải bản DOCX.";
        } else if (state.state === "queued") {
          text.textContent = state.ahead > 0
            ? "Bản PDF đang chờ tạo (còn " + state.ahead + " bản trước), vui lòng chờ…"
            : "Bản PDF đang được tạo, vui lòng chờ trong giây lát…";
          window.setTimeout(poll, 1000);
        } else {
          text.textContent = state.message || "Không tìm thấy yêu cầu tạo PDF này.";
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
