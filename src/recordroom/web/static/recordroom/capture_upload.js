// Capture upload: drop files on the zone (they go into the file input, so the form
// works the same with or without this script), and refresh the batch list while the
// worker is reading.
(function () {
  "use strict";
  var zone = document.getElementById("capture-drop");
  var input = document.getElementById("capture-files");
  var chosen = document.getElementById("capture-chosen");
  function list() {
    chosen.textContent = "";
    Array.prototype.forEach.call(input.files, function (f) {
      var li = document.createElement("li");
      li.textContent = f.name + " (" + Math.ceil(f.size / 1024) + " KB)";
      chosen.appendChild(li);
    });
  }
  if (zone && input) {
    ["dragenter", "dragover"].forEach(function (kind) {
      zone.addEventListener(kind, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (kind) {
      zone.addEventListener(kind, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      var all = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
      Array.prototype.forEach.call(e.dataTransfer.files, function (f) { all.items.add(f); });
      input.files = all.files;
      list();
    });
    input.addEventListener("change", list);
  }
  var box = document.getElementById("capture-batches");
  function refresh() {
    var table = box.querySelector("table");
    if (!table || table.getAttribute("data-working") !== "1") { return; }
    fetch(box.getAttribute("data-refresh"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { box.innerHTML = html; } })
      .finally(function () { setTimeout(refresh, 3000); });
  }
  if (box) { setTimeout(refresh, 3000); }
})();
