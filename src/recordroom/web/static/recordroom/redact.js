/* Recordroom: drag a box on a document page's preview (the redaction page of a release
   request) to fill the Redact form's page, x, y, width and height in PDF points. The form
   works without this script: the numbers can be typed.

   The server gives the page's size as shown (data-width, data-height, points) and the map
   from a point (u, v) of the shown page, in points from its top left, to the page's user
   space (data-matrix "a b c d e f": x = a*u + b*v + c, y = d*u + e*v + f), so rotated and
   cropped pages need nothing here but scaling pixels to points. */
(function () {
  "use strict";
  var box = document.querySelector(".page-preview");
  var picker = document.getElementById("preview-page");
  if (picker && picker.form) {
    picker.addEventListener("change", function () { picker.form.submit(); });
  }
  if (!box) return;
  var img = box.querySelector("img");
  var m = (box.getAttribute("data-matrix") || "").split(" ").map(Number);
  var widthPt = Number(box.getAttribute("data-width"));
  var heightPt = Number(box.getAttribute("data-height"));
  var page = box.getAttribute("data-page");
  if (!img || m.length !== 6 || !(widthPt > 0) || !(heightPt > 0)) return;

  var start = null;
  var sel = null;

  function local(event) {
    var r = img.getBoundingClientRect();
    return {
      x: Math.min(Math.max(event.clientX - r.left, 0), r.width),
      y: Math.min(Math.max(event.clientY - r.top, 0), r.height),
      w: r.width, h: r.height
    };
  }

  function draw(a, b) {
    sel.style.left = Math.min(a.x, b.x) + "px";
    sel.style.top = Math.min(a.y, b.y) + "px";
    sel.style.width = Math.abs(b.x - a.x) + "px";
    sel.style.height = Math.abs(b.y - a.y) + "px";
  }

  function set(id, value) {
    var field = document.getElementById(id);
    if (field) {
      field.value = value;
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function fill(a, b) {
    // CSS pixels -> points of the shown page -> user space (every corner: any rotation)
    var sx = widthPt / a.w, sy = heightPt / a.h;
    var xs = [], ys = [];
    [a.x, b.x].forEach(function (px) {
      [a.y, b.y].forEach(function (py) {
        var u = px * sx, v = py * sy;
        xs.push(m[0] * u + m[1] * v + m[2]);
        ys.push(m[3] * u + m[4] * v + m[5]);
      });
    });
    var x = Math.min.apply(null, xs), y = Math.min.apply(null, ys);
    var round = function (n) { return (Math.round(n * 10) / 10).toString(); };
    set("redact-page", page);
    set("redact-x", round(x));
    set("redact-y", round(y));
    set("redact-width", round(Math.max.apply(null, xs) - x));
    set("redact-height", round(Math.max.apply(null, ys) - y));
    set("redact-text", "");  // a region or a text, not both
    var reason = document.getElementById("redact-reason");
    if (reason) reason.focus({ preventScroll: true });
  }

  box.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) return;
    event.preventDefault();
    start = local(event);
    if (!sel) {
      sel = document.createElement("span");
      sel.className = "selection-box";
      box.appendChild(sel);
    }
    draw(start, start);
    box.setPointerCapture(event.pointerId);
  });
  box.addEventListener("pointermove", function (event) {
    if (start) draw(start, local(event));
  });
  box.addEventListener("pointerup", function (event) {
    if (!start) return;
    var end = local(event);
    var a = start;
    start = null;
    if (Math.abs(end.x - a.x) < 3 || Math.abs(end.y - a.y) < 3) {
      sel.remove();
      sel = null;
      return;
    }
    draw(a, end);
    fill(a, end);
  });
  box.addEventListener("pointercancel", function () {
    start = null;
    if (sel) { sel.remove(); sel = null; }
  });
})();
