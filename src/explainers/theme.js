// Charts follow the book's light/dark switch (the theme sets <html data-theme="light|dark">).
// Plot backgrounds are transparent, so only ink changes: text, axes, grids, legends, readouts, and
// the paper of images tagged "paper".
(function (root) {
  "use strict";
  if (root.ExplainersTheme) return;

  // paper and pen: images of ink on paper (a drawing), in the draw widget's colours (draw_train.css)
  const INK = {
    light: { text: "#333333", axis: "#666666", grid: "#e3e3e3", legend: "#ffffff", outline: "#d0d0d0",
             paper: "#ffffff", pen: "#1c1c22" },
    dark: { text: "#dddddd", axis: "#aaaaaa", grid: "#3a3f46", legend: "#1f242b", outline: "#4a5058",
            paper: "#14161a", pen: "#eef0f3" },
  };

  // 256 colours from paper (no ink) to pen (full ink), for a colour mapper over ink 0-255
  function inkRamp(paper, pen) {
    const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const [p, q] = [rgb(paper), rgb(pen)];
    const hex = (v) => Math.round(v).toString(16).padStart(2, "0");
    return Array.from({ length: 256 }, (_, k) => "#" + p.map((c, i) => hex(c + (q[i] - c) * k / 255)).join(""));
  }

  function mode() {
    const html = root.document && root.document.documentElement;
    return html && html.dataset.theme === "dark" ? "dark" : "light";
  }

  // What to repaint, by Bokeh model type; glyphs keep their own colours.
  function paintModel(model, ink) {
    const type = model.type || "";
    if (type.endsWith("Axis")) {
      model.setv({
        axis_line_color: ink.axis, major_tick_line_color: ink.axis, minor_tick_line_color: ink.axis,
        major_label_text_color: ink.text, axis_label_text_color: ink.text,
      });
    } else if (type === "Grid") {
      if (model.grid_line_color !== null) model.grid_line_color = ink.grid;
    } else if (type === "Legend") {
      model.setv({ label_text_color: ink.text, background_fill_color: ink.legend, border_line_color: ink.outline });
    } else if (type === "ColorBar") {
      model.setv({ major_label_text_color: ink.text, title_text_color: ink.text, major_tick_line_color: ink.axis,
                   background_fill_color: null });
    } else if (type === "Title") {
      model.text_color = ink.text;
    } else if (type === "Figure" || type === "Plot") {
      if (model.outline_line_color !== null) model.outline_line_color = ink.outline;
    } else if (model.tags && model.tags.includes("paper") && "palette" in model) {
      model.palette = inkRamp(ink.paper, ink.pen);
    } else if (model.tags && model.tags.includes("ink")) {
      for (const field of ["text_color", "line_color"]) if (field in model) model[field] = ink.text;
    }
  }

  function paint(doc) {
    const ink = INK[mode()];
    for (const model of doc.all_models) paintModel(model, ink);
  }

  // Paint now and again whenever the reader flips the switch.
  function follow(doc) {
    paint(doc);
    if (!root.MutationObserver) return;
    new MutationObserver(() => paint(doc)).observe(root.document.documentElement, {
      attributes: true, attributeFilter: ["data-theme"],
    });
  }

  root.ExplainersTheme = { follow, paint, mode };
})(typeof window !== "undefined" ? window : globalThis);
