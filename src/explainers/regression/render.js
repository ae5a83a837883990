// One frame of the one-neuron chart. Reads: frame, choice.lr; returns the readout pairs.
// The moving marks sit on Bokeh's overlay layer (fast to repaint, but not clipped to the plot),
// so they are clipped here to each plot's box.

// The part of segment (x0, y0)-(x1, y1) inside box [xmin, xmax, ymin, ymax], or null (Liang-Barsky).
function clip(x0, y0, x1, y1, box) {
  const dx = x1 - x0, dy = y1 - y0;
  let t0 = 0, t1 = 1;
  for (const [p, q] of [[-dx, x0 - box[0]], [dx, box[1] - x0], [-dy, y0 - box[2]], [dy, box[3] - y0]]) {
    if (p === 0) { if (q < 0) return null; continue; }
    const t = q / p;
    if (p < 0) { if (t > t1) return null; if (t > t0) t0 = t; }
    else { if (t < t0) return null; if (t < t1) t1 = t; }
  }
  return [x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy];
}

// A polyline clipped to a box, as the separate runs that stay inside it.
function clipPath(xs, ys, box) {
  const runs = { xs: [], ys: [] };
  let run = null;
  for (let i = 1; i < xs.length; i++) {
    const part = clip(xs[i - 1], ys[i - 1], xs[i], ys[i], box);
    if (part === null) { run = null; continue; }
    if (run === null || run.x[run.x.length - 1] !== part[0] || run.y[run.y.length - 1] !== part[1]) {
      run = { x: [part[0]], y: [part[1]] };
      runs.xs.push(run.x);
      runs.ys.push(run.y);
    }
    run.x.push(part[2]);
    run.y.push(part[3]);
  }
  return runs;
}

const inside = (x, y, box) => x >= box[0] && x <= box[1] && y >= box[2] && y <= box[3];

const run = choice.lr;
const w = runs.data["w" + run];
const b = runs.data["b" + run];
const loss = runs.data["loss" + run];
const recorded = recorded_steps[run];
const at = Math.min(frame, recorded - 1);

const shown = inside(w[at], b[at], landscape_box);
current.data = { w: shown ? [w[at]] : [], b: shown ? [b[at]] : [] };
const trail = clipPath(w.slice(0, at + 1), b.slice(0, at + 1), landscape_box);
path.data = { xs: trail.xs, ys: trail.ys };
const dots = [...Array(at + 1).keys()].filter((i) => inside(w[i], b[i], landscape_box));
path_dots.data = { w: dots.map((i) => w[i]), b: dots.map((i) => b[i]) };
const fitted = clip(fit_box[0], w[at] * fit_box[0] + b[at], fit_box[1], w[at] * fit_box[1] + b[at], fit_box);
line.data = fitted ? { x: [fitted[0], fitted[2]], y: [fitted[1], fitted[3]] } : { x: [], y: [] };
if (curve.shownRun !== run) {  // the whole curve changes only when the run does
  curve.data = { step: steps.slice(0, recorded), loss: loss.slice(0, recorded) };
  curve.shownRun = run;
}
marker.data = { step: [steps[at]], loss: [loss[at]] };

const parts = [["w", w[at].toFixed(3)], ["b", b[at].toFixed(3)], ["loss", loss[at].toPrecision(4)]];
if (!shown) parts.push(["", "(w, b) is off the landscape"]);
const diverged = diverged_at[run];
if (diverged !== null && frame >= recorded) {
  parts.push(["", `diverged at step ${diverged}: the loss passed ${diverge_factor}× its starting value`]);
}
return parts;
