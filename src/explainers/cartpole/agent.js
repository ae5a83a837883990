// One frame of the agent chart: frame = timestep t of the chosen checkpoint's recorded episode.
// Past the episode's end the columns repeat its end state. Returns the readout pairs.
const c = choice.checkpoint;
const n = lengths[c];
const t = Math.min(frame, n);
const x = episodes.data["x" + c][t];
const theta = episodes.data["theta" + c][t];
const ended = frame >= n;

cart.data = {
  x: [x], y: [cart_y], pivot_y: [pivot_y],
  tip_x: [x + pole * Math.sin(theta)], tip_y: [pivot_y + pole * Math.cos(theta)],
};
const reach = pole * 1.15;
wedge.data = {
  x0: [x, x], y0: [pivot_y, pivot_y],
  x1: [x - reach * Math.sin(theta_limit), x + reach * Math.sin(theta_limit)],
  y1: [pivot_y + reach * Math.cos(theta_limit), pivot_y + reach * Math.cos(theta_limit)],
};
const action = episodes.data["action" + c][t];
if (ended) {
  push.data = { x: [], y: [], angle: [] };
} else {
  const side = action === 1 ? 1 : -1; // the triangle sits on the side it pushes toward, pointing there
  push.data = { x: [x + side * (cart_w / 2 + 0.16)], y: [cart_y], angle: [-side * Math.PI / 2] };
}
status.text = ended ? `episode ended at t = ${n}: ${ends[c]}` : "";

const degrees = (theta * 180) / Math.PI;
const theta_dots = episodes.data["theta_dot" + c];
const theta_dot = (theta_dots[t] * 180) / Math.PI;
// the current state and the latest steps on the map; a state off the map is drawn at its edge
const inBox = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
const onMap = (i) => [inBox((episodes.data["theta" + c][i] * 180) / Math.PI, map_box[0], map_box[1]),
                      inBox((theta_dots[i] * 180) / Math.PI, map_box[2], map_box[3])];
const here = onMap(t);
state.data = { theta: [here[0]], theta_dot: [here[1]] };
const from = Math.max(0, t - trail_steps);
const recent = Array.from({ length: t - from + 1 }, (_, k) => onMap(from + k));
trail.data = { theta: recent.map((p) => p[0]), theta_dot: recent.map((p) => p[1]) };
if (image.shownCheckpoint !== c) { // the heat map and the trace change only with the checkpoint
  image.data = { image: [policies.data.image[c]] };
  boundary.data = { xs: boundaries[c].xs, ys: boundaries[c].ys };
  const ts = episodes.data.t.slice(0, n + 1);
  const thetas = Array.from(episodes.data["theta" + c].slice(0, n + 1), (v) => v / theta_limit);
  const xs = Array.from(episodes.data["x" + c].slice(0, n + 1), (v) => v / x_limit);
  trace.data = { t: ts, theta: thetas, x: xs };
  limits_range.setv({ start: 0, end: Math.max(n * 1.03 + 1, 10) }); // room for the end marker
  image.shownCheckpoint = c;
}
now_line.location = t;
now.data = { t: [t, t], value: [theta / theta_limit, x / x_limit], marker: ["diamond", "square"], size: [12, 9] };

const parts = [["angle θ", `${degrees.toFixed(1)}°`], ["θ̇", `${theta_dot.toFixed(0)}°/s`], ["cart x", x.toFixed(3)]];
if (ended) {
  parts.push(["", `episode ended at t = ${n}: ${ends[c]}`]);
} else {
  parts.push(["action", action === 1 ? "push right" : "push left"]);
  parts.push(["π(right)", episodes.data["p" + c][t].toFixed(2)]);
}
return parts;
