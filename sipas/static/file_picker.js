// The Vietnamese file picker (console import, public notice check): the browser's own control says
// "Choose File / No file chosen", so it is hidden behind a Vietnamese button and the chosen file's name
// replaces "Chưa chọn tệp nào". Without JavaScript the button still opens the file dialog.
document.addEventListener("change", function (event) {
  var picker = event.target.closest && event.target.closest("[data-file-picker]");
  if (!picker || event.target.type !== "file") return;
  var file = event.target.files && event.target.files[0];
  picker.querySelector("[data-file-name]").textContent = file ? file.name : "Chưa chọn tệp nào";
});
