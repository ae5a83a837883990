// Runs before any page script: records every piece of text drawn on a canvas, with the box it covers
// and the clip region it was drawn in, so a test can tell text that the canvas (or the plot frame)
// cuts off. Boxes are in the canvas's own pixels; a canvas's record starts over when it is cleared.
(function () {
  "use strict";
  if (window.__canvasText) return;
  const P = CanvasRenderingContext2D.prototype;
  const states = new WeakMap(); // context -> {clip, stack, path}
  const drawn = new Map(); // canvas -> [{text, box, clip}]

  function state(ctx) {
    let s = states.get(ctx);
    if (!s) states.set(ctx, (s = { clip: null, stack: [], path: [] }));
    return s;
  }

  // the box, in canvas pixels, covered by the user-space rectangle [x0, x1] x [y0, y1]
  function box(ctx, x0, y0, x1, y1) {
    const m = ctx.getTransform();
    const xs = [], ys = [];
    for (const [x, y] of [[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) {
      xs.push(m.a * x + m.c * y + m.e);
      ys.push(m.b * x + m.d * y + m.f);
    }
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }

  function intersect(a, b) {
    if (!a) return b;
    if (!b) return a;
    return [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])];
  }

  function wrap(name, before) {
    const original = P[name];
    P[name] = function (...args) {
      before(this, args);
      return original.apply(this, args);
    };
  }

  wrap("save", (ctx) => { const s = state(ctx); s.stack.push(s.clip); });
  wrap("restore", (ctx) => { const s = state(ctx); if (s.stack.length) s.clip = s.stack.pop(); });
  wrap("beginPath", (ctx) => { state(ctx).path = []; });
  wrap("rect", (ctx, [x, y, w, h]) => { state(ctx).path.push(box(ctx, x, y, x + w, y + h)); });
  // a clip to a path of rectangles (how Bokeh clips to a plot's frame); other shapes are not followed
  wrap("clip", (ctx, args) => {
    const s = state(ctx);
    if (args.length > 0 || s.path.length === 0) return;
    const union = s.path.reduce((a, b) => [Math.min(a[0], b[0]), Math.min(a[1], b[1]),
                                          Math.max(a[2], b[2]), Math.max(a[3], b[3])]);
    s.clip = intersect(s.clip, union);
  });
  wrap("clearRect", (ctx, [x, y, w, h]) => {
    const b = box(ctx, x, y, x + w, y + h);
    if (b[0] <= 0.5 && b[1] <= 0.5 && b[2] >= ctx.canvas.width - 0.5 && b[3] >= ctx.canvas.height - 0.5) {
      drawn.set(ctx.canvas, []);
    }
  });
  wrap("fillText", (ctx, [text, x, y]) => {
    text = String(text);
    if (!text.trim()) return;
    const m = ctx.measureText(text);
    const b = box(ctx, x - m.actualBoundingBoxLeft, y - m.actualBoundingBoxAscent,
                  x + m.actualBoundingBoxRight, y + m.actualBoundingBoxDescent);
    if (!drawn.has(ctx.canvas)) drawn.set(ctx.canvas, []);
    drawn.get(ctx.canvas).push({ text, box: b, clip: state(ctx).clip });
  });

  window.__canvasText = drawn;
})();
