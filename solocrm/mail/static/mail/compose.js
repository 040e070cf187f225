// The compose page's small Markdown toolbar: wraps the selection of the message textarea in
// **bold**, *italic*, [link](…), "- " list items, or inserts a merge field. Without JavaScript
// the toolbar stays hidden and Markdown is typed by hand.
(function () {
  "use strict";

  var ACTIONS = {
    bold: function (text) { return "**" + (text || "bold") + "**"; },
    italic: function (text) { return "*" + (text || "italic") + "*"; },
    link: function (text) { return "[" + (text || "text") + "](https://)"; },
    list: function (text) {
      return (text || "item").split("\n").map(function (line) { return "- " + line; }).join("\n");
    },
    field: function () { return '{{ first_name|default:"there" }}'; }
  };

  function apply(area, name) {
    var start = area.selectionStart, end = area.selectionEnd;
    var selected = area.value.slice(start, end);
    var inserted = ACTIONS[name](selected);
    area.setRangeText(inserted, start, end, "end");
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function init() {
    document.querySelectorAll(".markdown-toolbar[data-for]").forEach(function (bar) {
      var area = document.getElementById(bar.getAttribute("data-for"));
      if (!area) { return; }
      bar.hidden = false;
      bar.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-md]");
        if (button && ACTIONS[button.getAttribute("data-md")]) {
          event.preventDefault();
          apply(area, button.getAttribute("data-md"));
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
