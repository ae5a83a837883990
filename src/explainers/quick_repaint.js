// Repaints that cost only the marks that moved. A few habits of BokehJS (3.9) cost much of a scrubbed
// frame, found with Chromium's CPU profiler on the book's charts:
//  - before every repaint, a plot measures the text of every axis, title and legend around it (tick
//    labels included) to learn whether it must be laid out again: several milliseconds a frame. Here a
//    plot measures again only when something that sizes those panels changed: a range's start or end,
//    the frame's size, or a property of a panel (an axis, its ticker or formatter, a title, a legend
//    or one of its entries), or when Bokeh itself asks for a layout.
//  - every colour, width and font of an axis, a title, a legend or an annotation is first looked up as
//    a CSS variable (--bk-text-color, ...) with getComputedStyle, which makes the browser recompute the
//    page's styles whenever anything in the page changed: again milliseconds a frame on a long chapter.
//    The book themes its charts through their properties (theme.js), never through those variables,
//    so the lookup is skipped.
//  - a scatter mark first asks which of its points lie in view, building four Range1d models (full
//    Bokeh models, with all their properties) to do so, for every scatter at every repaint. Here the same
//    box is computed with plain numbers.
//  - every renderer, at every repaint, rewrites the text of a <style> element that places its DOM
//    element at its marks' box, even with the same text: the browser parses it again and restyles the
//    page before it can draw the next text on a canvas. Here a text that would not change is not written,
//    and a glyph renderer's element, empty unless it has a context menu (none in the book), stays put.
//  - every glyph renderer keeps five more views of its glyph besides the one it draws (for selected,
//    unselected, hovered, muted and thinned-out-while-panning marks) and recomputes all six from the data
//    at every change, and maps all six to the screen at every repaint. The book's charts select, hover
//    over, mute and pan nothing (no tools), so here only the drawn view follows each change; the others
//    catch up, in full, the first time a renderer has a selection, a hover glyph, a mute or a pan.
// All of these reach into BokehJS's internals; `status()` says whether they found them, and the browser tests
// fail if they did not (a new Bokeh version), so that a silent slowdown never ships.
(function (root) {
  "use strict";
  if (root.ExplainersQuickRepaint) return;

  const patched = { plots: 0, cssLookups: false, markers: false, styleSheets: false, glyphElements: false,
                    drawnGlyphOnly: false };

  function plotViews(view, out = []) {
    if (view && typeof view._invalidate_layout_if_needed === "function" && view.frame) out.push(view);
    for (const child of (view && view.child_views) || []) plotViews(child, out);
    return out;
  }

  let fontGeneration = 0; // a web font that finishes loading changes every measured text
  if (root.document && root.document.fonts && root.document.fonts.addEventListener) {
    root.document.fonts.addEventListener("loadingdone", () => { fontGeneration++; });
  }

  function panelModels(plot) {
    const models = [plot.title];
    for (const panel of plot.side_panels || []) {
      models.push(panel, panel.ticker, panel.formatter, ...(Array.isArray(panel.items) ? panel.items : []));
    }
    return models.filter((model) => model && model.change && typeof model.change.connect === "function");
  }

  function steadyLayout(view) {
    if (view.__explainersQuick) return;
    const state = { version: 0, key: null };
    const bump = () => { state.version++; };
    const watched = new WeakSet();
    const watchPanels = () => {
      for (const model of panelModels(view.model)) {
        if (!watched.has(model)) { watched.add(model); model.change.connect(bump); }
      }
    };
    watchPanels();
    // a plot that changes (gains a panel, a legend, a title) is watched anew
    view.model.change.connect(() => { bump(); watchPanels(); });
    const key = () => {
      const { frame } = view;
      const ranges = [...frame.x_ranges.values(), ...frame.y_ranges.values()];
      const bounds = ranges.map((r) => `${r.start},${r.end}`).join(";");
      const { width, height } = frame.bbox;
      return `${state.version}|${fontGeneration}|${bounds}|${width}x${height}`;
    };
    const measure = view._invalidate_layout_if_needed.bind(view);
    view._invalidate_layout_if_needed = function () {
      if (!this._needs_layout && state.key !== null && key() === state.key) return;
      measure();
      state.key = key(); // as laid out now
    };
    view.__explainersQuick = true;
    patched.plots++;
  }

  // Every renderer view of the plots' views.
  function* rendererViews(views) {
    for (const view of views) yield* (view.renderer_views ? view.renderer_views.values() : []);
  }

  // The nearest prototype above `object` that passes `test`, or null.
  function prototypeWhere(object, test) {
    let proto = object ? Object.getPrototypeOf(object) : null;
    while (proto && !test(proto)) proto = Object.getPrototypeOf(proto);
    return proto;
  }
  const named = (name) => (proto) => Boolean(proto.constructor && proto.constructor.__name__ === name);
  const owns = (name) => (proto) => Object.prototype.hasOwnProperty.call(proto, name);

  // The prototype that owns Bokeh's CSS-variable lookup of visual properties, found from a renderer.
  function skipCssLookups(views) {
    if (patched.cssLookups) return;
    for (const renderer of rendererViews(views)) {
      for (const visual of Object.values(renderer.visuals || {})) {
        const proto = prototypeWhere(visual, owns("_get_css_value"));
        if (proto) {
          proto._get_css_value = () => "";
          patched.cssLookups = true;
          return;
        }
      }
    }
  }

  // Marker glyphs (scatter) keep the points inside the frame widened by the largest marker: the same
  // query as BokehJS's MarkerView._mask_data (Range1d.widen, then map through the scale), without models.
  function markerInView() {
    const { x_target, y_target } = this.renderer.plot_view.frame;
    const pad = this.max_size;
    const widen = (r) => (r.start > r.end ? [r.start + pad, r.end - pad] : [r.start - pad, r.end + pad]);
    const [sx0, sx1] = widen(x_target), [sy0, sy1] = widen(y_target);
    const { xscale, yscale } = this.renderer;
    return this.index.indices({ x0: xscale.invert(sx0), x1: xscale.invert(sx1),
                                y0: yscale.invert(sy0), y1: yscale.invert(sy1) });
  }

  function quickMarkers(views) {
    if (patched.markers) return;
    for (const renderer of rendererViews(views)) {
      const proto = prototypeWhere(renderer.glyph, named("MarkerView"));
      if (proto && owns("_mask_data")(proto)) {
        proto._mask_data = markerInView;
        patched.markers = true;
        return;
      }
    }
  }

  // InlineStyleSheet._update writes the <style> element's text; the prototype is found from a renderer's
  // `position` sheet.
  function steadyStyleSheets(views) {
    if (patched.styleSheets) return;
    for (const renderer of rendererViews(views)) {
      const proto = prototypeWhere(renderer.position, owns("_update"));
      if (proto && renderer.position.el instanceof root.HTMLStyleElement) {
        const write = proto._update;
        proto._update = function (css) {
          if (this.el.textContent !== css) write.call(this, css);
        };
        patched.styleSheets = true;
        return;
      }
    }
  }

  // The GlyphRendererView prototype, found from the first renderer with a glyph.
  function glyphRendererPrototype(views) {
    for (const renderer of rendererViews(views)) {
      const proto = renderer.glyph ? prototypeWhere(renderer, named("GlyphRendererView")) : null;
      if (proto) return proto;
    }
    return null;
  }

  // GlyphRendererView.update_position places the renderer's element (for its context menu) at its bbox.
  function steadyGlyphElements(views) {
    if (patched.glyphElements) return;
    const proto = glyphRendererPrototype(views);
    if (proto && typeof proto.update_position === "function") {
      const place = proto.update_position;
      proto.update_position = function () {
        if (this.model.context_menu != null) place.call(this);
      };
      patched.glyphElements = true;
    }
  }

  // GlyphRendererView.set_data / set_visuals / map_data update the drawn glyph view and its five others
  // (decimated, selection, nonselection, hover, muted); _paint picks among them. Without a selection, a
  // hover glyph, a mute or an interaction, _paint draws with the glyph view alone.
  function drawnGlyphOnly(views) {
    if (patched.drawnGlyphOnly) return;
    const proto = glyphRendererPrototype(views);
    const names = ["set_data", "set_visuals", "map_data", "_paint"];
    if (!proto || !names.every((name) => typeof proto[name] === "function")) return;
    const full = Object.fromEntries(names.map((name) => [name, proto[name]]));
    function drawsGlyphOnly(view) {
      const doc = view.model.document;
      return view.hover_glyph == null && !view.model.muted && view.model.data_source.selected.is_empty()
        && !(doc != null && doc.interactive_duration() > 0);
    }
    proto.set_data = async function (indices) {
      if (!drawsGlyphOnly(this)) {
        this.__explainersStale = false;
        return full.set_data.call(this, indices);
      }
      const source = this.model.data_source;
      this.all_indices = this.model.view.indices;
      await this.glyph.set_data(source, this.all_indices, indices);
      this.__explainersStale = true;
      await this.set_visuals();
      this._update_masked_indices();
      const { lod_factor } = this.plot_model;
      const n = this.all_indices.count;
      this.decimated = new this.all_indices.constructor(n);
      for (let i = 0; i < n; i += lod_factor) this.decimated.set(i);
      this.plot_view.invalidate_dataranges = true;
    };
    proto.set_visuals = async function () {
      if (!this.__explainersStale || !drawsGlyphOnly(this)) return full.set_visuals.call(this);
      this.glyph.set_visuals(this.model.data_source, this.all_indices);
      this.glyph.after_visuals();
      await this.glyph.after_lazy_visuals();
    };
    // while stale, only the drawn view has this data to map
    proto.map_data = function () {
      if (this.__explainersStale) this.glyph.map_data();
      else full.map_data.call(this);
    };
    // the first repaint that needs the other views (a selection, a hover, a mute, a pan) waits for them:
    // the renderer skips that one repaint, and draws in full once they have caught up
    proto._paint = function (ctx) {
      if (!this.__explainersStale || drawsGlyphOnly(this)) return full._paint.call(this, ctx);
      if (!this.__explainersCatchingUp) {
        this.__explainersCatchingUp = true;
        full.set_data.call(this).then(() => {
          this.__explainersStale = this.__explainersCatchingUp = false;
          full.map_data.call(this);
          this.request_paint();
        });
      }
    };
    patched.drawnGlyphOnly = true;
  }

  function apply(doc) {
    const views = [];
    for (const rootView of root.Bokeh ? root.Bokeh.index : []) {
      if (rootView.model.document === doc) plotViews(rootView, views);
    }
    views.forEach(steadyLayout);
    skipCssLookups(views);
    quickMarkers(views);
    steadyStyleSheets(views);
    steadyGlyphElements(views);
    drawnGlyphOnly(views);
  }

  function status() {
    return { ...patched };
  }

  root.ExplainersQuickRepaint = { follow: apply, status };
})(window);
