// Runs before the first paint (loaded without defer in <head>): the theme chosen by hand and the
// collapsed sidebar, both remembered in localStorage, so a page never flashes the wrong one.
(function () {
  "use strict";
  var root = document.documentElement;
  try {
    var theme = localStorage.getItem("solocrm-theme");
    if (theme === "light" || theme === "dark") root.setAttribute("data-theme", theme);
    if (localStorage.getItem("solocrm-sidebar") === "collapsed") root.setAttribute("data-sidebar", "collapsed");
  } catch (e) { /* storage blocked: follow the system setting */ }
  root.classList.add("js");
})();
