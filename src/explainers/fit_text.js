// A plot's words fit its width, on a phone as beside another panel: titles, x-axis labels, legend
// entries and notes placed in the plot wrap onto more lines instead of running off the canvas, and
// category names that would print over each other turn on their side. Each keeps the text the chart
// declared and is fitted again whenever the page's width changes. Bokeh draws a "\n" in a title, an
// axis label, a legend entry or a Label as a line break.
(function (root) {
  "use strict";
  if (root.ExplainersFitText) return;
  const measure = root.document.createElement("canvas").getContext("2d");
  const declared = new WeakMap(); // model -> {attribute: value as the chart declared it}
  const docs = new Set();

  function original(model, attribute) {
    if (!declared.has(model)) declared.set(model, {});
    const kept = declared.get(model);
    if (!(attribute in kept)) kept[attribute] = model[attribute];
    return kept[attribute];
  }

  function font(model, prefix) {
    return `${model[prefix + "_font_style"]} ${model[prefix + "_font_size"]} ${model[prefix + "_font"]}`;
  }

  function wrap(text, fontSpec, width) {
    measure.font = fontSpec;
    const lines = [];
    let line = "";
    for (const word of text.split(" ")) {
      const longer = line ? `${line} ${word}` : word;
      if (line && measure.measureText(longer).width > width) {
        lines.push(line);
        line = word;
      } else {
        line = longer;
      }
    }
    lines.push(line);
    return lines.join("\n");
  }

  // the height of one legend line (Bokeh's label height may be "auto": then the glyph's, or 20 px)
  function lineHeight(legend) {
    const sizes = [legend.glyph_height, legend.label_height].filter((v) => typeof v === "number");
    return sizes.length ? Math.max(...sizes) : 20;
  }

  function plotViews(view, out = []) {
    if (view.model && view.frame && view.model.title !== undefined) out.push(view);
    for (const child of view.child_views || []) plotViews(child, out);
    return out;
  }

  // Set `attribute` of `model` to `value`; true when that changed anything.
  function set(model, attribute, value) {
    if (model[attribute] === value) return false;
    model[attribute] = value;
    return true;
  }

  function fitPlot(view) {
    const { width, height } = view.frame.bbox;
    if (!(width > 0 && height > 0)) return;
    const plot = view.model;
    let changed = false;
    const title = plot.title;
    if (title && typeof title.text === "string" && title.text) {
      changed = set(title, "text", wrap(original(title, "text"), font(title, "text"), width)) || changed;
    }
    for (const axis of [...(plot.below || []), ...(plot.above || [])]) {
      if (!axis.type || !axis.type.endsWith("Axis")) continue;
      const label = original(axis, "axis_label");
      if (typeof label === "string" && label) {
        changed = set(axis, "axis_label", wrap(label, font(axis, "axis_label_text"), width)) || changed;
      }
      const factors = plot.x_range && plot.x_range.factors;
      if (axis.type === "CategoricalAxis" && factors && factors.length) {
        measure.font = font(axis, "major_label_text");
        const widest = Math.max(...factors.map((f) => measure.measureText(String(f)).width));
        const crowded = factors.length * (widest + 6) > width;
        changed = set(axis, "major_label_orientation",
                      crowded ? "vertical" : original(axis, "major_label_orientation")) || changed;
      }
    }
    // A legend laid out in one row that is wider than the frame lists one entry per line instead; a
    // legend listed one entry per line wraps its long entries to the frame's width. One outside the
    // frame makes the plot taller by its extra lines, so the frame keeps its height.
    let extra = 0;
    const outside = [...(plot.below || []), ...(plot.above || [])];
    for (const legend of [...(plot.center || []), ...outside]) {
      if (legend.type !== "Legend") continue;
      const oneRow = legend.nrows === "auto" && legend.ncols === "auto";
      if (original(legend, "orientation") === "horizontal" && oneRow && typeof plot.height === "number") {
        measure.font = font(legend, "label_text");
        const entries = legend.items.map((item) => {
          const label = original(item, "label");
          const text = label && typeof label.value === "string" ? label.value : "";
          return measure.measureText(text).width + legend.glyph_width + legend.label_standoff + legend.spacing;
        });
        const row = entries.reduce((a, b) => a + b, 0) + 2 * legend.padding + 2 * legend.margin;
        changed = set(legend, "orientation", row > width ? "vertical" : "horizontal") || changed;
        if (legend.orientation === "horizontal") continue;
        if (outside.includes(legend)) extra += (legend.items.length - 1) * (lineHeight(legend) + legend.spacing);
      }
      const room = width - legend.glyph_width - legend.label_standoff - 2 * legend.padding - 2 * legend.margin - 8;
      if (!(room > 60)) continue;
      for (const item of legend.items) {
        const label = original(item, "label");
        if (!label || typeof label.value !== "string") continue;
        const text = wrap(label.value, font(legend, "label_text"), room);
        if (outside.includes(legend)) extra += (text.split("\n").length - 1) * lineHeight(legend);
        if (item.label.value !== text) {
          item.label = { value: text };
          changed = true;
        }
      }
    }
    const declaredHeight = original(plot, "height");
    if (typeof declaredHeight === "number") changed = set(plot, "height", declaredHeight + extra) || changed;
    // a note placed in the plot (a Label) wraps at the frame's right edge; one near the top of the frame
    // grows downwards, its first line staying where the single line was
    for (const model of plot.center || []) {
      if (model.type !== "Label" || typeof model.text !== "string" || model.text_align !== "left") continue;
      const dataUnits = model.x_units === "data" && view.frame.x_scale && view.frame.y_scale;
      if (!dataUnits) continue;
      const x = view.frame.x_scale.compute(model.x), y = view.frame.y_scale.compute(model.y);
      const room = view.frame.bbox.right - x - (model.x_offset || 0) - 4;
      if (!(room > 40)) continue;
      const text = wrap(original(model, "text"), font(model, "text"), room);
      changed = set(model, "text", text) || changed;
      const baseline = original(model, "text_baseline"), offset = original(model, "y_offset") || 0;
      const upwards = ["bottom", "alphabetic", "ideographic"].includes(baseline);
      if (upwards && text.includes("\n") && y < view.frame.bbox.top + view.frame.bbox.height / 2) {
        const line = parseFloat(model.text_font_size) * model.text_line_height;
        changed = set(model, "text_baseline", "top") || changed;
        changed = set(model, "y_offset", offset + line) || changed;
      } else {
        changed = set(model, "text_baseline", baseline) || changed;
        changed = set(model, "y_offset", offset) || changed;
      }
    }
    if (changed) view.request_layout(true); // a panel grew or shrank: lay the plot out again
  }

  function fit(doc) {
    for (const rootView of root.Bokeh ? root.Bokeh.index : []) {
      if (rootView.model.document !== doc) continue;
      for (const view of plotViews(rootView)) fitPlot(view);
    }
  }

  // after Bokeh has laid the charts out again at the new width
  let pending = null;
  function refit() {
    root.clearTimeout(pending);
    pending = root.setTimeout(() => { for (const doc of docs) fit(doc); }, 150);
  }

  // Fit once the chart is laid out, and again whenever the window changes width.
  function follow(doc) {
    docs.add(doc);
    root.requestAnimationFrame(() => fit(doc));
    if (docs.size === 1) root.addEventListener("resize", refit);
  }

  root.ExplainersFitText = { follow, wrap };
})(window);
