/* Recordroom: the duplicate worklist's "select every pair on this page" box.
   The page works without it (tick the pairs one by one). */
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  var form = document.getElementById("assign-form");
  if (!all || !form) return;
  var boxes = form.querySelectorAll('input[type=checkbox][name=pair]');
  all.hidden = false;
  all.addEventListener("change", function () {
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
  });
})();
