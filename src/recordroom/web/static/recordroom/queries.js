// The query builder: the words selected in a document's text become the next empty
// quote row, with that document chosen (the server checks they are in the record).
(function () {
  "use strict";
  document.querySelectorAll(".quote-selection").forEach(function (button) {
    button.addEventListener("click", function () {
      var words = String(window.getSelection() || "").replace(/\s+/g, " ").trim();
      if (!words) { return; }
      var rows = document.querySelectorAll(".span-row");
      for (var i = 0; i < rows.length; i++) {
        var quote = rows[i].querySelector("input.quote");
        if (!quote.value) {
          quote.value = words;
          rows[i].querySelector("select[name^=doc_]").value = button.dataset.doc;
          quote.focus();
          return;
        }
      }
    });
  });
})();
