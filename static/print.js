// The receipt's Print button: without a script it stays hidden, and the
// browser's own Print (Ctrl+P) prints the same page.
"use strict";
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
});
