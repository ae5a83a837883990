// One frame of the reward chart (frame = training episode index). Returns the readout pairs.
const e = curve.data.episode[frame];
const reward = curve.data.reward[frame];
const average = curve.data.average[frame];
const update = curve.data.update[frame];

current.data = { episode: [e], reward: [reward], average: [average] };

const parts = [
  ["reward", String(reward)],
  ["average of the last " + Math.min(e, solve_window), average.toFixed(1)],
  ["weights after", `${update} update${update === 1 ? "" : "s"}`],
];
const names = checkpoint_names.filter((_, i) => checkpoint_updates[i] === update).map((name) => `"${name}"`);
if (names.length) parts.push(["", `checkpoint ${names.join(" and ")} played this episode`]);
if (solved_episode !== null && e >= solved_episode) parts.push(["", `solved at episode ${solved_episode}`]);
return parts;
