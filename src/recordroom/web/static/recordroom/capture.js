/* Recordroom: the indexing page, keyboard first. Every action is a plain form that
   works without this script; here the forms are posted in place (the server answers
   with the workspace fragment) and bound to keys (the legend on the page). */
(function () {
  "use strict";
  var root = document.getElementById("workspace");
  if (!root) return;
  var current = 1;

  function count() { return root.querySelectorAll(".page-view").length; }

  function show(position) {
    var n = count();
    if (!n) return;
    current = Math.max(1, Math.min(n, position));
    root.querySelectorAll(".page-view").forEach(function (fig) {
      var on = parseInt(fig.getAttribute("data-position"), 10) === current;
      fig.hidden = !on;
      var img = fig.querySelector("img");
      if (on && img && !img.getAttribute("src") && img.getAttribute("data-src")) {
        img.setAttribute("src", img.getAttribute("data-src"));
      }
    });
    root.querySelectorAll(".thumb").forEach(function (a) {
      var on = parseInt(a.getAttribute("data-position"), 10) === current;
      a.classList.toggle("current", on);
      if (on) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
    });
    root.querySelectorAll("input.pos").forEach(function (input) { input.value = String(current); });
    var split = root.querySelector('button[data-key="s"]');
    if (split) split.disabled = current === 1;
    var u = new URL(window.location.href);
    u.searchParams.set("page", String(current));
    window.history.replaceState(null, "", u.toString());
  }

  function send(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    root.setAttribute("aria-busy", "true");
    return fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Fragment": "1" }
    }).then(function (r) {
      var go = r.headers.get("X-Redirect");
      if (go) { window.location.assign(go); return; }
      if (r.redirected) { window.location.assign(r.url); return; }
      return r.text().then(function (html) {
        root.innerHTML = html;
        root.removeAttribute("aria-busy");
        bind();
      });
    }).catch(function () { form.submit(); });
  }

  function bind() {
    var start = parseInt(new URL(window.location.href).searchParams.get("page") || "1", 10);
    var fromInput = root.querySelector("input.pos");
    if (fromInput) start = parseInt(fromInput.value, 10) || start;
    show(start);
    root.querySelectorAll("form[data-swap]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        send(form, ev.submitter);
      });
    });
    root.querySelectorAll(".thumb").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        show(parseInt(a.getAttribute("data-position"), 10));
      });
    });
  }

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    if (tag === "INPUT" && (el.type === "checkbox" || el.type === "radio")) return false;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function press(key) {
    var button = root.querySelector('button[data-key="' + key + '"]');
    if (button && !button.disabled) { button.click(); return true; }
    return false;
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var el = document.activeElement;
    if (typing(el)) {
      if (ev.key === "Escape") el.blur();
      return;
    }
    var key = ev.key;
    if (key === "Enter") {
      if (el && (el.tagName === "BUTTON" || el.tagName === "A" || el.tagName === "SUMMARY")) return;
      var form = document.getElementById("file-form");
      if (!form) return;
      ev.preventDefault();
      var unticked = form.querySelector('input[type=checkbox]:not(:checked)');
      if (form.getAttribute("data-clean") === "1" || !unticked) {
        send(form, null);
      } else {
        unticked.focus();  // a doubtful document: confirm first (Space ticks it)
      }
      return;
    }
    if (key === "j" || key === "ArrowRight") { show(current + 1); ev.preventDefault(); return; }
    if (key === "k" || key === "ArrowLeft") { show(current - 1); ev.preventDefault(); return; }
    if (key === "/") {
      var find = document.getElementById("find-patient");
      if (find) { find.open = true; document.getElementById("q-name").focus(); ev.preventDefault(); }
      return;
    }
    if (key === "n") {
      var next = document.getElementById("next-doc");
      if (next) window.location.assign(next.href);
      return;
    }
    if (press(key)) ev.preventDefault();
  });

  bind();
})();
