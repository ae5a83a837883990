// What a reader would see wrong with each chart on the page, measured in the live DOM (shadow roots
// included) and from the text canvas_text.js recorded. One function expression, for page.evaluate.
() => {
  const SLACK = 1.5; // px: anti-aliasing and sub-pixel layout

  function descendants(root, out = []) {
    for (const el of root.querySelectorAll("*")) {
      out.push(el);
      if (el.shadowRoot) descendants(el.shadowRoot, out);
    }
    return out;
  }

  function shown(el) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    const style = getComputedStyle(el);
    return style.visibility !== "hidden" && style.display !== "none";
  }

  function chartOf(node) {
    while (node) {
      const figure = node.closest ? node.closest("figure.explainers-chart") : null;
      if (figure) return figure;
      const root = node.getRootNode();
      node = root && root.host ? root.host : null;
    }
    return null;
  }

  function rgba(colour) {
    const m = colour.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  }

  function luminance({ r, g, b }) {
    const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  }

  const CONTROL = "button, select, input, .bk-btn, .noUi-target, .noUi-handle";
  // what takes room on the page: plots' canvases, controls and Bokeh's layout boxes (a renderer's or a
  // slider's inner elements may reach past the chart, but are clipped or empty)
  const LAID_OUT = `canvas, ${CONTROL.replace(", .noUi-handle", "")}, .bk-Figure, .bk-Row, .bk-Column, .bk-Div,
                    .bk-Paragraph, .bk-GridPlot, .bk-GridBox, .bk-Slider, .bk-Select, .bk-Button, .bk-Toggle,
                    .bk-RadioButtonGroup`;
  const page = document.documentElement;
  const result = {
    pageOverflow: Math.max(0, page.scrollWidth - page.clientWidth),
    charts: [],
  };

  for (const figure of document.querySelectorAll("figure.explainers-chart")) {
    const id = figure.id.replace(/^chart-/, "");
    const frame = figure.getBoundingClientRect();
    const column = (figure.closest("article") || figure.parentElement).getBoundingClientRect();
    const els = descendants(figure).filter(shown);
    let left = frame.left, right = frame.right;
    for (const el of els.filter((e) => e.matches(LAID_OUT))) {
      const r = el.getBoundingClientRect();
      left = Math.min(left, r.left);
      right = Math.max(right, r.right);
    }
    const chart = {
      id,
      width: Math.round(right - left),
      box: Math.round(Math.min(frame.width, column.width)),
      tooWide: right > Math.min(frame.right, column.right) + SLACK || left < Math.max(frame.left, column.left) - SLACK,
      sliders: [],
      lightControls: [],
      cutControls: [],
      clippedText: [],
      overlappingText: [],
      emptyLegendEntries: [],
    };
    for (const el of els) {
      if (el.matches(".noUi-target")) chart.sliders.push(Math.round(el.getBoundingClientRect().width));
      if (!el.matches(CONTROL)) continue;
      const colour = rgba(getComputedStyle(el).backgroundColor);
      const name = (el.textContent || el.className || el.tagName).trim().slice(0, 40);
      if (colour && colour.a >= 0.5 && luminance(colour) > 0.4) chart.lightControls.push(name);
      if (el.matches("button, .bk-btn") && el.scrollWidth > el.clientWidth + SLACK) chart.cutControls.push(name);
    }
    result.charts.push(chart);
  }

  const byId = new Map(result.charts.map((c) => [c.id, c]));
  for (const [canvas, texts] of window.__canvasText || []) {
    if (!canvas.isConnected) continue;
    const figure = chartOf(canvas);
    if (!figure || !shown(canvas)) continue;
    const chart = byId.get(figure.id.replace(/^chart-/, ""));
    const bounds = [0, 0, canvas.width, canvas.height];
    const boxes = [];
    for (const { text, box, clip } of texts) {
      const area = clip ? [Math.max(0, clip[0]), Math.max(0, clip[1]), Math.min(canvas.width, clip[2]),
                           Math.min(canvas.height, clip[3])] : bounds;
      if (box[0] < area[0] - SLACK || box[1] < area[1] - SLACK || box[2] > area[2] + SLACK || box[3] > area[3] + SLACK) {
        chart.clippedText.push(text);
      }
      for (const other of boxes) {
        if (other.text === text && Math.abs(other.box[0] - box[0]) < 1 && Math.abs(other.box[1] - box[1]) < 1) continue;
        const w = Math.min(box[2], other.box[2]) - Math.max(box[0], other.box[0]);
        const h = Math.min(box[3], other.box[3]) - Math.max(box[1], other.box[1]);
        if (w > 2 && h > 2) chart.overlappingText.push(`${other.text} / ${text}`);
      }
      boxes.push({ text, box });
    }
  }

  // a legend entry draws its swatch from its renderers' data: with no data at all, no swatch
  for (const doc of window.Bokeh ? Bokeh.documents : []) {
    for (const model of doc.all_models) {
      if (model.type !== "Legend" || !model.visible) continue;
      for (const item of model.items) {
        if (item.visible === false) continue;
        // a steady swatch (an invisible renderer tagged "legend-swatch", explainers.figure) draws it too
        const drawn = item.renderers.some((r) => (r.visible || (r.tags || []).includes("legend-swatch"))
                                                 && r.data_source && r.data_source.get_length() > 0);
        if (drawn) continue;
        const label = item.label && (item.label.value ?? item.label);
        const root = doc.roots()[0];
        const holder = root && document.querySelector(`[data-root-id="${root.id}"]`);
        const chart = holder && byId.get((chartOf(holder) || { id: "" }).id.replace(/^chart-/, ""));
        if (chart) chart.emptyLegendEntries.push(String(label));
      }
    }
  }
  return result;
}
