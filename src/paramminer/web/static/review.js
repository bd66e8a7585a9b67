// One key per action: every element with data-key="K" is clicked (or focused, for a text box)
// when K is pressed outside a text box. Esc leaves a text box.
"use strict";
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement) {
    if (event.key === "Escape") target.blur();
    return;
  }
  const element = document.querySelector(`[data-key="${CSS.escape(event.key)}"]`);
  if (!element || element.disabled) return;
  event.preventDefault();
  if (element instanceof HTMLInputElement) element.focus();
  else element.click();
});
