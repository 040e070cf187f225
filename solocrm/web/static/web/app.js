// solocrm: the little behaviour htmx does not cover. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Selects marked data-autosubmit (the language switch) submit their form on change,
  // so the "Switch" button is only needed without JavaScript.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });
})();
