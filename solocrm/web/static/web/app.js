// solocrm: the little behaviour htmx does not cover. Every page works without this file.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value);
    } catch (e) { /* private mode: the choice lasts for this page only */ }
  }

  // Selects marked data-autosubmit (the language switch) submit their form on change,
  // so the "Switch" button is only needed without JavaScript.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  // ---- theme: the system's unless chosen by hand (theme.js applies it before paint) ----------
  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function effectiveTheme() {
    var chosen = root.getAttribute("data-theme");
    if (chosen) return chosen;
    return darkQuery && darkQuery.matches ? "dark" : "light";
  }
  function toggleTheme() {
    var next = effectiveTheme() === "dark" ? "light" : "dark";
    var system = darkQuery && darkQuery.matches ? "dark" : "light";
    // Back to the system's choice when it matches, so a later change of the system setting wins.
    if (next === system) { root.removeAttribute("data-theme"); store("solocrm-theme", null); }
    else { root.setAttribute("data-theme", next); store("solocrm-theme", next); }
    document.dispatchEvent(new CustomEvent("solocrm:themechange", { detail: { theme: next } }));
  }

  // ---- sidebar: collapsed on wide screens, a drawer on phones --------------------------------
  function setCollapsed(collapsed) {
    if (collapsed) root.setAttribute("data-sidebar", "collapsed"); else root.removeAttribute("data-sidebar");
    store("solocrm-sidebar", collapsed ? "collapsed" : null);
    syncSidebarButtons();
  }
  function syncSidebarButtons() {
    var collapsed = root.getAttribute("data-sidebar") === "collapsed";
    document.querySelectorAll("[data-sidebar-toggle]").forEach(function (button) {
      button.setAttribute("aria-expanded", collapsed ? "false" : "true");
    });
  }
  var lastOpener = null;
  function setDrawer(open, opener) {
    var backdrop = document.querySelector(".drawer-backdrop");
    root.classList.toggle("drawer-open", open);
    if (backdrop) backdrop.hidden = !open;
    document.querySelectorAll("[data-drawer-open]").forEach(function (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    if (open) {
      lastOpener = opener || null;
      var first = document.querySelector("#sidebar a, #sidebar button");
      if (first) first.focus();
    } else if (lastOpener) {
      lastOpener.focus();
      lastOpener = null;
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var button = target.closest("[data-theme-toggle]");
    if (button) { toggleTheme(); return; }
    if (target.closest("[data-sidebar-toggle]")) {
      setCollapsed(root.getAttribute("data-sidebar") !== "collapsed");
      return;
    }
    var opener = target.closest("[data-drawer-open]");
    if (opener) { setDrawer(true, opener); return; }
    if (target.closest("[data-drawer-close]")) { setDrawer(false); return; }
    var dismiss = target.closest("[data-dismiss]");
    if (dismiss) { removeToast(dismiss.closest("[data-toast]")); return; }
    // A click outside an open dropdown closes it.
    document.querySelectorAll("details.dropdown[open]").forEach(function (details) {
      if (!details.contains(target)) details.open = false;
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (root.classList.contains("drawer-open")) { setDrawer(false); return; }
    document.querySelectorAll("details.dropdown[open]").forEach(function (details) {
      details.open = false;
      var summary = details.querySelector("summary");
      if (summary) summary.focus();
    });
  });

  // ---- toasts: Django messages float in a corner; calm ones leave after a while --------------
  var TOAST_MS = 8000;
  function removeToast(toast) {
    if (!toast) return;
    var list = toast.parentElement;
    toast.remove();
    if (list && !list.children.length) list.remove();
  }
  function armToast(toast) {
    var close = toast.querySelector("[data-dismiss]");
    if (close) close.hidden = false;
    if (toast.hasAttribute("data-sticky")) return; // warnings and errors stay until dismissed
    var timer = null;
    function start() { stop(); timer = window.setTimeout(function () { removeToast(toast); }, TOAST_MS); }
    function stop() { if (timer) window.clearTimeout(timer); timer = null; }
    // Never while someone reads it with the pointer or the keyboard.
    toast.addEventListener("mouseenter", stop);
    toast.addEventListener("mouseleave", start);
    toast.addEventListener("focusin", stop);
    toast.addEventListener("focusout", start);
    start();
  }
  function armToasts(scope) {
    (scope || document).querySelectorAll("[data-toast]:not([data-armed])").forEach(function (toast) {
      toast.setAttribute("data-armed", "");
      armToast(toast);
    });
  }

  // ---- scrolling frames (wide tables, the board, tabs) take the keyboard focus, so they can be
  // scrolled without a mouse ----------------------------------------------------------------
  function markScrollable(scope) {
    (scope || document).querySelectorAll(".table-wrap, .board, .tabs, [data-scroll-frame]").forEach(function (frame) {
      var scrolls = frame.scrollWidth > frame.clientWidth + 1 || frame.scrollHeight > frame.clientHeight + 1;
      if (scrolls && !frame.hasAttribute("tabindex")) frame.setAttribute("tabindex", "0");
      else if (!scrolls && frame.getAttribute("tabindex") === "0") frame.removeAttribute("tabindex");
    });
  }
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () { markScrollable(document); }, 150);
  });

  function ready() {
    markScrollable(document);
    syncSidebarButtons();
    armToasts(document);
    var phone = window.matchMedia("(min-width: 56rem)");
    var onChange = function () { if (phone.matches) setDrawer(false); };
    if (phone.addEventListener) phone.addEventListener("change", onChange);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready); else ready();
  document.addEventListener("htmx:afterSettle", function (event) {
    armToasts(event.target);
    markScrollable(document);
  });
})();
