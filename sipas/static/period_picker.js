// The period picker (aggregator/templates/aggregator/_period_picker.html): only the chosen kind's controls
// show, the others are disabled so they are not sent (a value left in a hidden control never conflicts).
for (const picker of document.querySelectorAll("[data-period-picker]")) {
  const kind = picker.querySelector("[data-period-kind]");
  const update = () => {
    for (const label of picker.querySelectorAll("[data-kind]")) {
      const shown = label.dataset.kind === kind.value;
      label.hidden = !shown;
      for (const control of label.querySelectorAll("input, select")) control.disabled = !shown;
    }
  };
  kind.addEventListener("change", update);
  update();
}
