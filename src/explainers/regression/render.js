// One frame of the one-neuron chart. Reads: frame, choice.lr; returns the readout pairs.
const run = choice.lr;
const w = runs.data["w" + run];
const b = runs.data["b" + run];
const loss = runs.data["loss" + run];
const recorded = recorded_steps[run];
const at = Math.min(frame, recorded - 1);

current.data = { w: [w[at]], b: [b[at]] };
path.data = { w: w.slice(0, at + 1), b: b.slice(0, at + 1) };
line.data = { x: [x_span[0], x_span[1]], y: [w[at] * x_span[0] + b[at], w[at] * x_span[1] + b[at]] };
if (curve.shownRun !== run) {  // the whole curve changes only when the run does
  curve.data = { step: steps.slice(0, recorded), loss: loss.slice(0, recorded) };
  curve.shownRun = run;
}
marker.data = { step: [steps[at]], loss: [loss[at]] };

const parts = [["w", w[at].toFixed(3)], ["b", b[at].toFixed(3)], ["loss", loss[at].toPrecision(4)]];
const diverged = diverged_at[run];
if (diverged !== null && frame >= recorded) {
  parts.push(["", `diverged at step ${diverged}: the loss passed ${diverge_factor}× its starting value`]);
}
return parts;
