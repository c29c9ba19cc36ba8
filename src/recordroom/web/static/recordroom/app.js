/* Recordroom: the session-timeout notice. Pages work without this script.
   The server ends a session after the idle limit (each request renews it); this only
   tells the user, a minute ahead, and again when it has ended. */
(function () {
  "use strict";
  var body = document.body;
  if (!body || body.getAttribute("data-signed-in") !== "1") return;
  var minutes = parseInt(body.getAttribute("data-idle-minutes"), 10);
  if (!(minutes > 0)) return;
  var notice = document.getElementById("session-notice");
  var loginUrl = body.getAttribute("data-login-url") || "/login";
  var warnAt = Math.max(minutes - 1, 0) * 60 * 1000;
  var endAt = minutes * 60 * 1000;

  function show(text, withLink) {
    if (!notice) return;
    notice.textContent = text + " ";
    if (withLink) {
      var a = document.createElement("a");
      a.href = loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search);
      a.textContent = "Sign in again";
      notice.appendChild(a);
    }
    notice.hidden = false;
  }

  if (warnAt > 0) {
    window.setTimeout(function () {
      show("Your session ends in about a minute without activity. Open or reload a page to stay signed in.", false);
    }, warnAt);
  }
  window.setTimeout(function () {
    show("Your session ended after " + minutes + " minutes without activity. Any unsaved work on this page is lost.", true);
  }, endAt);
})();
