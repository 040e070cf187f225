// solocrm: the command palette (Ctrl+K / Cmd+K or "/"), keyboard shortcuts ("g c", "n c", …) and
// the "?" help sheet. The header search box is a plain form that opens /search/ without this file.
// ARIA combobox + listbox: focus stays in the input, aria-activedescendant names the chosen option;
// the palette is a modal <dialog>, so the page behind it is inert (focus cannot leave it).
(function () {
  "use strict";

  var palette = document.getElementById("palette");
  var help = document.getElementById("shortcuts");
  if (!palette) return;

  var input = palette.querySelector(".palette-input");
  var list = palette.querySelector("#palette-list");
  var resultsBox = palette.querySelector("[data-palette-results]");
  var commandsBox = palette.querySelector("[data-palette-commands]");
  var status = palette.querySelector("[data-palette-status]");
  var url = palette.getAttribute("data-url");
  var timer = null;
  var controller = null;
  var active = -1;
  var DEBOUNCE_MS = 120;

  function isTyping(target) {
    if (!target || !(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag !== "INPUT") return false;
    var type = (target.getAttribute("type") || "text").toLowerCase();
    return ["button", "checkbox", "radio", "submit", "reset", "file", "color", "range"].indexOf(type) < 0;
  }

  function options() {
    return Array.prototype.filter.call(list.querySelectorAll("[role=option]"), function (el) {
      return !el.hidden && !(el.closest("[hidden]"));
    });
  }

  function choose(index) {
    var all = options();
    all.forEach(function (el) { el.setAttribute("aria-selected", "false"); el.classList.remove("is-active"); });
    if (!all.length) { active = -1; input.removeAttribute("aria-activedescendant"); return; }
    active = (index + all.length) % all.length;
    var el = all[active];
    el.setAttribute("aria-selected", "true");
    el.classList.add("is-active");
    input.setAttribute("aria-activedescendant", el.id);
    el.scrollIntoView({ block: "nearest" });
  }

  function filterCommands(text) {
    var needle = text.trim().toLowerCase();
    var shown = 0;
    commandsBox.querySelectorAll("[role=option]").forEach(function (el) {
      var match = !needle || el.textContent.toLowerCase().indexOf(needle) >= 0;
      el.hidden = !match;
      if (match) shown += 1;
    });
    commandsBox.hidden = shown === 0;
  }

  function announce() {
    var count = resultsBox.querySelectorAll("[role=option]").length;
    var empty = resultsBox.querySelector("[data-palette-empty]");
    status.textContent = empty ? empty.textContent : (input.value.trim() ? String(count) : "");
  }

  function load(text) {
    if (controller) controller.abort();
    if (!text.trim()) { resultsBox.innerHTML = ""; choose(0); announce(); return; }
    controller = typeof AbortController === "function" ? new AbortController() : null;
    var request = url + "?q=" + encodeURIComponent(text);
    fetch(request, { credentials: "same-origin", headers: { "Accept": "text/html" }, signal: controller ? controller.signal : undefined })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (input.value !== text) return; // an older answer: a newer request is on its way
        // The server's template escaped everything users typed; only <mark> and icons are markup.
        resultsBox.innerHTML = html;
        choose(0);
        announce();
      })
      .catch(function () { /* aborted or offline: keep what is shown */ });
  }

  function open(text) {
    if (help && help.open) help.close();
    if (!palette.open) palette.showModal();
    input.value = text || "";
    filterCommands(input.value);
    load(input.value);
    choose(0);
    input.focus();
    input.select();
  }

  function close() { if (palette.open) palette.close(); }

  function go(el) {
    var href = el && el.getAttribute("href");
    if (href) { close(); window.location.assign(href); }
  }

  input.addEventListener("input", function () {
    filterCommands(input.value);
    choose(0);
    clearTimeout(timer);
    var text = input.value;
    timer = setTimeout(function () { load(text); }, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") { event.preventDefault(); choose(active + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); choose(active - 1); }
    else if (event.key === "Home" && event.ctrlKey) { event.preventDefault(); choose(0); }
    else if (event.key === "End" && event.ctrlKey) { event.preventDefault(); choose(-1); }
    else if (event.key === "Enter") {
      var all = options();
      if (active >= 0 && all[active]) { event.preventDefault(); go(all[active]); }
      // else: the form submits to /search/ (the full results page)
    }
  });

  list.addEventListener("click", function (event) {
    var el = event.target.closest("[role=option]");
    if (el) { event.preventDefault(); go(el); }
  });
  list.addEventListener("mousemove", function (event) {
    var el = event.target.closest("[role=option]");
    if (el) { var index = options().indexOf(el); if (index >= 0 && index !== active) choose(index); }
  });
  palette.querySelector("[data-palette-close]").addEventListener("click", close);
  // A click on the backdrop (outside the dialog's box) closes it.
  palette.addEventListener("click", function (event) { if (event.target === palette) close(); });

  // The header search box opens the palette with what was typed so far.
  var trigger = document.querySelector("[data-palette-trigger]");
  if (trigger) {
    var box = trigger.querySelector("input");
    // Not on focus: closing the dialog gives focus back to this box, which must not reopen it.
    box.addEventListener("click", function () { open(box.value); });
    box.addEventListener("input", function () { var text = box.value; box.value = ""; open(text); });
    trigger.addEventListener("submit", function (event) { event.preventDefault(); open(box.value); });
  }

  // Shortcuts: "g c", "n c" (two keys within a second), Ctrl/Cmd+K, "/", "?".
  var sequences = {};
  commandsBox.querySelectorAll("[data-keys]").forEach(function (el) { sequences[el.getAttribute("data-keys")] = el; });
  var pending = "";
  var pendingTimer = null;

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "k" || event.key === "K")) {
      event.preventDefault();
      if (palette.open) close(); else open("");
      return;
    }
    if (palette.open || (help && help.open) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || event.defaultPrevented) return;
    if (event.key === "/") { event.preventDefault(); open(""); return; }
    if (event.key === "?") { event.preventDefault(); if (help) help.showModal(); return; }
    if (event.key.length !== 1) return;
    var key = event.key.toLowerCase();
    if (pending) {
      var target = sequences[pending + " " + key];
      pending = "";
      clearTimeout(pendingTimer);
      if (target) { event.preventDefault(); window.location.assign(target.getAttribute("href")); }
      return;
    }
    if (key === "g" || key === "n") {
      pending = key;
      pendingTimer = setTimeout(function () { pending = ""; }, 1000);
    }
  });
})();
