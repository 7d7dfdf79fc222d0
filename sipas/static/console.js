// The console's behaviour, kept out of the pages so the Content-Security-Policy forbids inline script.
"use strict";

// A form or button with data-confirm asks before it acts (revoking a kiosk, resetting a template).
document.addEventListener("submit", function (event) {
  var form = event.target, button = event.submitter;
  var question = (button && button.dataset.confirm) || form.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// A page that comes back with an error (a refused form). When the message names a field (data-field, set by
// sipas/console/refusal.py) of the form that was sent (the one posting to this page's address), the message is
// shown again beside that field, the field is marked invalid and described by it, and focus goes there. Otherwise
// focus goes to the message itself. Either way a screen reader reads why at once, and Tab goes on from there.
document.addEventListener("DOMContentLoaded", function () {
  var error = document.querySelector("main .flash-error");
  if (!error) {
    // The outcome of the action just done ("Đã lưu.", a password shown once): read out at once, unless the page
    // puts focus where work goes on (the next ballot's first box).
    var done = document.querySelector("main .flash[data-flashed]");
    if (done && !document.querySelector("[autofocus]")) {
      done.setAttribute("tabindex", "-1");
      done.focus();
    }
    return;
  }
  var field = error.getAttribute("data-field"), here = window.location.href.split("#")[0], controls = [];
  if (field) {
    // The posted forms holding that field: the one that posts to this page (refused and shown again), else the
    // only one (refused, then a redirect back to the page that holds it: a notice's issue form).
    var sent = [], only = [];
    Array.prototype.forEach.call(document.querySelectorAll("main form"), function (form) {
      if ((form.getAttribute("method") || "").toLowerCase() !== "post") return;
      var named = Array.prototype.filter.call(form.elements, function (control) {
        return control.name === field && control.type !== "hidden" && control.tagName !== "BUTTON";
      });
      if (!named.length) return;
      // getAttribute: a control named "action" (the case page's forms) hides the form's own .action
      if (new URL(form.getAttribute("action") || "", here).href === here) sent.push(named);
      only.push(named);
    });
    controls = sent[0] || (only.length === 1 ? only[0] : []);
  }
  if (!controls.length) {
    if (!error.hasAttribute("tabindex")) error.setAttribute("tabindex", "-1");
    error.focus();
    return;
  }
  var group = controls.length > 1 ? controls[0].closest("fieldset") : null;  // a list of checkboxes
  var marked = group || controls[0], note = document.createElement("p");
  note.id = "field-error";
  note.className = "field-error";
  note.textContent = error.textContent;
  if (group) { group.appendChild(note); } else { (controls[0].closest("label") || controls[0]).after(note); }
  marked.setAttribute("aria-invalid", "true");
  marked.setAttribute("aria-describedby", "field-error");
  controls[0].focus();
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

