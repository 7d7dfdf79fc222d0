// Keyed entry of paper ballots (console/ballots/batch.html). Without this file the form still works with one
// post per ballot; with it a digit (or 0 / -) jumps to the next question, Backspace on an empty box goes back,
// and Enter saves through fetch, adds the row, updates the running count and clears the form for the next one.
(function () {
  "use strict";
  var form = document.getElementById("ballot-entry");
  if (!form || !window.fetch) { return; }
  var keys = Array.prototype.slice.call(form.querySelectorAll("input.ballot-key"));
  var dossier = document.getElementById("dossier_code");
  var comment = document.getElementById("comment");
  var status = document.getElementById("entry-status");
  var count = document.querySelector('[data-testid="count"]');
  var next = document.getElementById("next-position");
  var table = document.querySelector("#ballot-lines tbody");
  var editing = form.querySelector('input[name="position"]') !== null;
  var busy = false;

  // The box a refusal names is marked invalid and described by the message (before what its digits mean), so
  // focus landing on it reads why.
  function mark(box) {
    var own = box.getAttribute("aria-describedby") || "";
    box.setAttribute("data-describedby", own);
    box.setAttribute("aria-invalid", "true");
    box.setAttribute("aria-describedby", ("entry-status " + own).trim());
  }

  function unmark() {
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (box) {
      var own = box.getAttribute("data-describedby");
      box.removeAttribute("aria-invalid");
      box.removeAttribute("data-describedby");
      if (own) { box.setAttribute("aria-describedby", own); } else { box.removeAttribute("aria-describedby"); }
    });
  }

  function say(text, kind) {
    status.hidden = false;
    status.className = "flash flash-" + kind;
    status.textContent = text;
  }

  keys.forEach(function (input, index) {
    input.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.altKey || event.metaKey) { return; }
      if (/^[0-9-]$/.test(event.key)) {
        event.preventDefault();
        input.value = event.key;
        (keys[index + 1] || dossier).focus();
        if (keys[index + 1]) { keys[index + 1].select(); }
      } else if (event.key === "Backspace" && input.value === "" && index > 0) {
        event.preventDefault();
        keys[index - 1].value = "";
        keys[index - 1].focus();
      }
    });
  });

  function addRow(saved) {
    var row = document.createElement("tr");
    [String(saved.position), saved.keys.join(" "), saved.dossier_code, saved.comment].forEach(function (text, i) {
      var cell = document.createElement("td");
      if (i === 0) { cell.className = "num"; }
      cell.textContent = text;
      row.appendChild(cell);
    });
    var link = document.createElement("a");
    link.href = saved.edit_url;
    link.textContent = "Sửa";
    var last = document.createElement("td");
    last.appendChild(link);
    row.appendChild(last);
    table.appendChild(row);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }
    busy = true;
    var token = form.querySelector('input[name="csrf_token"]').value;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      busy = false;
      if (!result.ok) {
        var error = result.body.error || {};
        say(error.message || "Không lưu được phiếu.", "error");
        var field = (error.field || "").replace(/^keys\./, "k_");
        var named = field && document.getElementById(field);
        if (named && !form.contains(named)) { named = null; }
        var target = named || keys[0];
        unmark();
        if (named) { mark(named); }
        target.focus();
        if (target.select) { target.select(); }
        return;
      }
      var saved = result.body;
      if (editing) { window.location.href = form.action.replace(/\/lines$/, ""); return; }
      unmark();
      addRow(saved);
      count.textContent = String(saved.count);
      if (next) { next.textContent = String(saved.count + 1); }
      form.querySelector('input[name="submit_key"]').value = saved.submit_key;
      keys.forEach(function (input) { input.value = ""; });
      dossier.value = "";
      if (comment) { comment.value = ""; }
      say("Đã lưu phiếu số " + saved.position + ".", "success");
      keys[0].focus();
    }).catch(function () {
      busy = false;
      say("Mất kết nối, phiếu chưa được lưu. Nhấn Enter để thử lại.", "error");
    });
  });
})();
