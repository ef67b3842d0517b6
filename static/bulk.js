// The inventory's tick boxes: "Tick all on this page" (hidden without a
// script: each row's own box works without one) and how many are ticked,
// on the Apply button.
"use strict";
(function () {
  const all = document.getElementById("tick-all");
  const apply = document.querySelector("#bulk button[type=submit]");
  if (!all || !apply) return;
  const boxes = Array.from(document.querySelectorAll('input[form="bulk"][name="ids"]'));
  const label = apply.textContent;
  const update = function () {
    const n = boxes.filter(function (b) { return b.checked; }).length;
    apply.textContent = n ? label + " (" + n + ")" : label;
    all.checked = n === boxes.length && n > 0;
    all.indeterminate = n > 0 && n < boxes.length;
  };
  all.closest("label").hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (b) { b.checked = all.checked; });
    update();
  });
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  update();
})();
