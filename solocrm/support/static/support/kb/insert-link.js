// Knowledge-base links in reply boxes: a button with data-kb-insert="[title](url)" (the
// fragment GET /support/kb/links/?q=…&target=ID) inserts its Markdown link at the cursor of the
// text area with id data-kb-target, else of the first text area in the button's form. The
// text area hears an "input" event, so previews and autosaves follow.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kb-insert]");
    if (!button) return;
    var id = button.getAttribute("data-kb-target");
    var area = id ? document.getElementById(id) : null;
    if (!area) {
      var form = button.closest("form");
      area = form ? form.querySelector("textarea") : null;
    }
    if (!area) return;
    event.preventDefault();
    var text = button.getAttribute("data-kb-insert");
    var start = area.selectionStart || 0;
    var end = area.selectionEnd || start;
    var before = area.value.slice(0, start);
    var spacer = before && !/\s$/.test(before) ? " " : "";
    area.value = before + spacer + text + area.value.slice(end);
    var cursor = start + spacer.length + text.length;
    area.focus();
    area.setSelectionRange(cursor, cursor);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
