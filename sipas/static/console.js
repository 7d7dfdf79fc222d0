// The console's behaviour, kept out of the pages so the Content-Security-Policy forbids inline script.
"use strict";

// A form or button with data-confirm asks before it acts (revoking a kiosk, resetting a template).
document.addEventListener("submit", function (event) {
  var form = event.target, button = event.submitter;
  var question = (button && button.dataset.confirm) || form.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// A page that comes back with an error (a refused form): focus on the first error message, not on a field or the
// top of the page, so a screen reader reads why at once and the next Tab goes on to the form below it.
document.addEventListener("DOMContentLoaded", function () {
  var error = document.querySelector("main .flash-error");
  if (!error) return;
  if (!error.hasAttribute("tabindex")) error.setAttribute("tabindex", "-1");
  error.focus();
});

// data-print: the slip sheet's "In phiếu" button.
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) window.print();
});

// The SMS template editor: statistics and a preview while the clerk types.
document.addEventListener("DOMContentLoaded", function () {
  if (!document.getElementById("template-form") || !document.getElementById("text")) return;
(function () {
  var form = document.getElementById("template-form"), box = document.getElementById("text"), timer = null;
  var token = form.querySelector("input[name=csrf_token]").value;
  function show(data) {
    ["encoding", "characters", "segments"].forEach(function (k) {
      form.querySelector('[data-stat="' + k + '"]').textContent = data[k];
    });
    document.getElementById("template-preview").textContent = data.preview;
    var errors = document.getElementById("template-errors");
    errors.textContent = "";
    [[data.errors, "flash flash-error", "alert"], [data.warnings || [], "flash", "status"]].forEach(function (box) {
      if (!box[0].length) return;
      var div = document.createElement("div"), ul = document.createElement("ul");
      div.className = box[1]; div.setAttribute("role", box[2]);
      box[0].forEach(function (e) { var li = document.createElement("li"); li.textContent = e; ul.appendChild(li); });
      div.appendChild(ul); errors.appendChild(div);
    });
  }
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(form.dataset.checkUrl, {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token},
        body: JSON.stringify({text: box.value})}).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) show(data); });
    }, 250);
  });
})();
});

