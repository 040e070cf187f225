// solocrm analytics: draws the charts of the Analytics pages with the vendored Chart.js.
// Every chart reads its data from a <script type="application/json"> written by Django's
// json_script (no inline code, no eval: a strict Content-Security-Policy holds) and has the same
// numbers in a table next to it, so nothing is lost without JavaScript.
(function () {
  "use strict";

  var PALETTE = ["#1d4ed8", "#0f766e", "#b45309", "#7c3aed", "#be123c", "#15803d", "#0369a1", "#a16207", "#4d7c0f", "#9d174d", "#475569"];
  var BAND = ["rgba(29, 78, 216, .35)", "rgba(29, 78, 216, .22)", "rgba(29, 78, 216, .12)"];
  var lang = document.documentElement.lang || undefined;

  function formatter(format, currency) {
    var options = { maximumFractionDigits: 0 };
    var suffix = "";
    if (format === "money") {
      // As in the tables (docs/languages.md): the grouped amount and the ISO code, "50,190 EUR".
      suffix = currency ? " " + currency : "";
    } else if (format === "percent") {
      options = { style: "percent", maximumFractionDigits: 0 };
    } else if (format === "decimal") {
      options = { maximumFractionDigits: 2 };
    }
    var number;
    try {
      number = new Intl.NumberFormat(lang, options);
    } catch (error) { // a language the browser does not know: its default
      number = new Intl.NumberFormat(undefined, options);
    }
    return function (value) {
      return value === null || value === undefined ? "—" : number.format(value) + suffix;
    };
  }

  function dataset(spec, item, index) {
    var colour = PALETTE[index % PALETTE.length];
    var out = {
      label: item.label,
      data: item.data,
      yAxisID: item.axis === "y1" ? "y1" : "y",
      backgroundColor: colour,
      borderColor: colour,
      borderWidth: spec.type === "line" ? 2 : 0,
      pointRadius: spec.type === "line" ? 2 : 0,
      spanGaps: false,
      fill: false
    };
    if (item.axis === "y1" && spec.type === "bar") {
      out.backgroundColor = "rgba(180, 83, 9, .75)";
    }
    if (item.role === "band" || item.role === "edge") {
      out.borderWidth = 0;
      out.pointRadius = 0;
      out.backgroundColor = BAND[item.tone] || BAND[2];
      out.fill = item.fill || false;
      out.tooltipHidden = item.role === "edge";
    } else if (item.role === "forecast") {
      out.borderColor = PALETTE[0];
      out.borderDash = [6, 4];
      out.backgroundColor = PALETTE[0];
    } else if (item.role === "actual") {
      out.borderColor = themeColour("--text", "#0f172a");
      out.backgroundColor = themeColour("--text", "#0f172a");
    }
    if (spec.categoryPercentage) { out.categoryPercentage = spec.categoryPercentage; }
    if (spec.barPercentage) { out.barPercentage = spec.barPercentage; }
    return out;
  }

  function config(spec) {
    function axisFormat(axis, fallback) {
      var first = spec.datasets.filter(function (item) { return (item.axis === "y1") === (axis === "y1"); })[0];
      return formatter((first && first.format) || fallback, spec.currency);
    }
    var formats = spec.datasets.map(function (item) {
      return formatter(item.format || spec.format, spec.currency);
    });
    var left = axisFormat("y", spec.format);
    var scales = {
      x: { ticks: { autoSkip: true, maxRotation: 60 } },
      y: { beginAtZero: spec.type === "bar", ticks: { callback: function (v) { return left(v); } } }
    };
    if (spec.datasets.some(function (item) { return item.axis === "y1"; })) {
      var right = axisFormat("y1", "number");
      scales.y1 = {
        position: "right", beginAtZero: spec.type === "bar", grid: { drawOnChartArea: false },
        ticks: { callback: function (v) { return right(v); } }
      };
    }
    return {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets.map(function (item, i) { return dataset(spec, item, i); }) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: {
          legend: {
            labels: { filter: function (legend, data) { return !data.datasets[legend.datasetIndex].tooltipHidden; } }
          },
          tooltip: {
            filter: function (context) { return !context.dataset.tooltipHidden && context.raw !== null; },
            callbacks: {
              label: function (context) {
                return context.dataset.label + ": " + formats[context.datasetIndex](context.raw);
              }
            }
          }
        }
      }
    };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || canvas.getAttribute("data-drawn")) { return; }
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    if (!spec.labels || !spec.labels.length) {
      canvas.parentNode.hidden = true;
      return;
    }
    new window.Chart(canvas, config(spec));
    canvas.setAttribute("data-drawn", "1");
    // The numbers stay one click away; the chart now shows them.
    var section = canvas.closest("section");
    var details = section && section.querySelector("details[data-close-with-js]");
    if (details) { details.open = false; }
  }

  // Axis labels, grid lines and the "actual" line take the theme's colours (light or dark).
  function themeColour(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function drawAll(root) {
    if (!window.Chart) { return; }
    window.Chart.defaults.color = themeColour("--muted", "#475569");
    window.Chart.defaults.borderColor = themeColour("--border", "#e2e8f0");
    Array.prototype.forEach.call((root || document).querySelectorAll("canvas[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(); });
  } else {
    drawAll();
  }
  document.addEventListener("htmx:load", function (event) { drawAll(event.target); });
})();
