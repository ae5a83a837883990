// One frame of the superposition star. Reads: frame, choice.s; returns the readout pairs.
// frames holds x, y, norm, shared at index ((frame·n_runs) + run)·n_features + i.
const run = choice.s;
const n = n_features;
const start = (frame * n_runs + run) * n;
// each column is int16; its scale turns it back into the number (see figure.packed)
const fx = frames.data.x, fy = frames.data.y, fnorm = frames.data.norm, fshared = frames.data.shared;
const a = { x0: [], y0: [], x1: [], y1: [], angle: [], head: [], colour: [], name: [], lx: [], ly: [], text: [] };
const b = { feature: [], norm: [], shared: [], colour: [], shared_colour: [] };
const marks = { feature: [], y: [] };
const dropped_names = [];
for (let i = 0; i < n; i++) {
  const x = fx[start + i] * scales.x, y = fy[start + i] * scales.y, norm = fnorm[start + i] * scales.norm;
  const kept = norm > threshold;
  const angle = Math.atan2(y, x);
  a.x0.push(0); a.y0.push(0); a.x1.push(x); a.y1.push(y);
  a.angle.push(angle - Math.PI / 2);  // the triangle marker points up at angle 0
  a.head.push(kept ? 13 : 0);  // a dropped feature keeps its (tiny) shaft but no arrowhead
  a.colour.push(colours[i]); a.name.push(names[i]);
  // the label sits just beyond the tip; a dropped feature has no direction to label
  a.lx.push(x + label_at * Math.cos(angle)); a.ly.push(y + label_at * Math.sin(angle));
  a.text.push(kept ? names[i] : "");
  b.feature.push(names[i]); b.norm.push(norm); b.colour.push(colours[i]);
  // "shared" means nothing for a feature with no direction: grey, at 0, marked ×
  b.shared.push(kept ? fshared[start + i] * scales.shared : 0);
  b.shared_colour.push(kept ? colours[i] : dropped_colour);
  if (!kept) {
    dropped_names.push(names[i]);
    marks.feature.push(names[i]);
    marks.y.push(0);
  }
}
arrows.data = a;
bars.data = b;
dropped.data = marks;
const loss = losses.data.loss[frame * n_runs + run];
return [
  ["S", String(sparsity[run])],
  ["loss", loss.toPrecision(3)],
  ["features kept (norm > " + threshold + ")", `${n - dropped_names.length} of ${n}`],
  ["norm ≤ " + threshold, dropped_names.length ? dropped_names.join(", ") : "none"],
];
