// solocrm: keyboard support of the quote builder (sales/quote_edit.html). htmx does the saving:
// every line row posts its fields on "change"; the add, move and remove buttons carry hx-post.
// Without this file (or without JavaScript) the builder still works: the same buttons submit
// the whole form. No inline code, no eval: a strict CSP holds.
//
// - Enter in a line's field saves it; in the last line it also adds a new line (focused).
// - Alt+↑ / Alt+↓ move the line the focus is in, and the focus stays in the moved line.
// - A refused change (409: changed in another tab; 422: a bad value) still shows its message.
(function () {
  "use strict";

  var form = document.getElementById("quote-form");
  if (!form) { return; }
  var pending = null; // what to focus once the lines section comes back: {line, field} or "new"

  function rowOf(element) { return element && element.closest ? element.closest("tr.quote-line") : null; }

  function fieldName(input) {
    var parts = (input.name || "").split("-");
    return parts[parts.length - 1];
  }

  function commit(input) {
    // The row's hx-trigger is "change": fire it now so the value is saved before what follows
    // (the requests queue on the form, in order).
    if (input.dataset.lastSent !== input.value) {
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  form.addEventListener("change", function (event) {
    if (rowOf(event.target)) { event.target.dataset.lastSent = event.target.value; }
  }, true);

  form.addEventListener("keydown", function (event) {
    var input = event.target;
    var row = rowOf(input);
    if (!row || !row.hasAttribute("data-line")) { return; }
    if (event.key === "Enter" && input.tagName === "INPUT" && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      commit(input);
      var next = row.nextElementSibling;
      if (next) {
        var same = next.querySelector("[name$='-" + fieldName(input) + "']");
        if (same) { same.focus(); if (same.select) { same.select(); } }
        return;
      }
      var add = form.querySelector("[data-add-line]");
      if (add) { pending = "new"; add.click(); }
      return;
    }
    if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      var button = row.querySelector("[data-move='" + (event.key === "ArrowUp" ? "up" : "down") + "']");
      event.preventDefault();
      if (!button) { return; }
      commit(input);
      pending = { line: row.getAttribute("data-line"), field: fieldName(input) };
      button.click();
    }
  });

  // Save (a plain submit of the whole form) waits for the line changes still on their way, so
  // it carries the version they produced instead of tripping the check against another tab.
  var inFlight = new Set();
  var submitter = null;
  function resubmit() {
    if (!submitter) { return; }
    var button = submitter;
    submitter = null;
    window.setTimeout(function () { form.requestSubmit(button); }, 0);
  }
  function done(event) {
    inFlight.delete(event.detail.xhr);
    if (inFlight.size === 0) { resubmit(); }
  }
  document.body.addEventListener("htmx:beforeSend", function (event) { inFlight.add(event.detail.xhr); });
  ["htmx:afterRequest", "htmx:sendAbort", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.body.addEventListener(name, done);
  });
  form.addEventListener("submit", function (event) {
    if (inFlight.size > 0 && !submitter) {
      event.preventDefault();
      submitter = event.submitter || form.querySelector("button[value=save]");
      window.setTimeout(function () { inFlight.clear(); resubmit(); }, 4000); // never wait forever
    }
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (!pending || !event.detail.target || event.detail.target.id !== "quote-lines") { return; }
    var lines = document.getElementById("quote-lines");
    var target = null;
    if (pending === "new") {
      var rows = lines.querySelectorAll("tr.quote-line");
      target = rows.length ? rows[rows.length - 1].querySelector("[name$='-name']") : null;
    } else {
      var row = lines.querySelector("tr.quote-line[data-line='" + pending.line + "']");
      target = row ? row.querySelector("[name$='-" + pending.field + "']") : null;
    }
    pending = null;
    if (target) { target.focus(); if (target.select) { target.select(); } }
  });
})();
