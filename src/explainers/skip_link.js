// A "Skip to the chart" link among the page's first Tab stops (beside the theme's "Skip to main
// content"): keyboard readers reach the first chart in two presses instead of crossing the whole
// navigation. Activating it focuses the chart, which then takes the player's keys. Once per page.
(function (root) {
  "use strict";
  const doc = root.document;
  if (!doc || doc.getElementById("explainers-skip-to-chart")) return;
  const chart = doc.querySelector("figure.explainers-chart");
  if (!chart) return;
  const link = doc.createElement("a");
  link.id = "explainers-skip-to-chart";
  link.className = "skip-link explainers-skip-link";
  link.href = `#${chart.id}`;
  link.textContent = doc.querySelectorAll("figure.explainers-chart").length > 1 ? "Skip to the first chart" : "Skip to the chart";
  link.addEventListener("click", (event) => {
    event.preventDefault();
    chart.scrollIntoView({ block: "start" });
    chart.focus({ preventScroll: true });
  });
  const themeSkip = doc.querySelector("a.skip-link:not(.explainers-skip-link)");
  if (themeSkip) themeSkip.after(link);
  else doc.body.prepend(link);
})(window);
