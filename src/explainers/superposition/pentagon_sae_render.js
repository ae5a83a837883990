// One frame of the pentagon SAE chart. Reads: frame, choice.run, choice.seed; returns readout pairs.
// frames (angle, dead, freq): index ((frame·n_runs + run)·n_seeds + seed)·n_latents + latent;
// matches (cos, latent): the same with n_features; metrics: (frame·n_runs + run)·n_seeds + seed.
// angle, freq and cos are integers; scales turns each back into its number (see figure.packed).
const run = choice.run, seed = choice.seed;
const cell = (frame * n_runs + run) * n_seeds + seed;
const f = frames.data, m = matches.data, k = metrics.data;
// alive and dead latents share one source (a spoke and a mark each); dead ones are grey, dotted, an ×
const spokes = { x0: [], y0: [], x1: [], y1: [], colour: [], width: [], dash: [], marker: [], angle: [], size: [],
                 mark_width: [] };
const bars = { latent: [], freq: [], colour: [], alpha: [] };
const marks = { latent: [], y: [] };
for (let l = 0; l < n_latents; l++) {
  const at = cell * n_latents + l;
  const exists_here = exists[run][l] === 1;
  bars.latent.push(String(l + 1));
  if (!exists_here) {  // padding: this run has fewer latents; nothing to draw in this slot
    bars.freq.push(0); bars.colour.push(latent_colour); bars.alpha.push(0);
    continue;
  }
  const angle = f.angle[at] * scales.angle;  // a decoder column has unit length: its angle places it
  const x = Math.cos(angle) * latent_len, y = Math.sin(angle) * latent_len;
  const is_dead = f.dead[at] === 1;
  spokes.x0.push(0); spokes.y0.push(0); spokes.x1.push(x); spokes.y1.push(y);
  spokes.colour.push(is_dead ? dropped_colour : latent_colour);
  spokes.width.push(is_dead ? 2 : 3);
  spokes.dash.push(is_dead ? "dotted" : "solid");
  spokes.marker.push(is_dead ? "x" : "triangle");
  spokes.angle.push(is_dead ? 0 : Math.atan2(y, x) - Math.PI / 2);  // the triangle points outwards
  spokes.size.push(is_dead ? 12 : 11);
  spokes.mark_width.push(is_dead ? 2 : 1);
  bars.freq.push(f.freq[at] * scales.freq);
  bars.alpha.push(1);
  bars.colour.push(is_dead ? dropped_colour : latent_colour);
  if (is_dead) {
    marks.latent.push(String(l + 1));
    marks.y.push(0);
  }
}
latents.data = spokes;
dead_entry.visible = marks.latent.length > 0;  // the legend lists dead latents while there are some
latent_bars.data = bars;
dead_marks.data = marks;

const match = { feature: [], cos: [], colour: [], text: [], text_y: [] };
for (let i = 0; i < n_features; i++) {
  const at = cell * n_features + i;
  const best = m.cos[at] * scales.cos;
  const cos = m.latent[at] < 0 ? 0 : Math.max(0, best);
  const ok = m.latent[at] >= 0 && best > recovered_at;
  match.feature.push(names[i]);
  match.cos.push(cos);
  match.colour.push(ok ? colours[i] : dropped_colour);
  match.text.push(m.latent[at] < 0 ? "none" : `${best.toFixed(2)}${ok ? "" : " ✗"}`);
  match.text_y.push(cos + 0.03);
}
match_bars.data = match;

const parts = [
  ["recovered (cos > " + recovered_at + ")", `${k.n_recovered[cell]} of ${n_features}`],
  ["dead latents", String(k.n_dead[cell])],
  ["explained variance", k.explained_variance[cell].toFixed(3)],
  ["L0", k.l0[cell].toFixed(2)],
];
if (resample[run]) {
  const done = resample_steps.filter((s) => s < steps[frame]);
  parts.push(["", done.length ? `dead latents resampled at step ${done.join(", ")}` : `resampling at steps ${resample_steps.join(", ")}`]);
}
return parts;
