// One frame of the SAE training chart. Reads: frame; returns the readout pairs.
const data = curves.data;
marker.data = { tokens: [data.tokens[frame]], value: [data.held[frame]] };
dead_marker.data = { tokens: [data.tokens[frame]], value: [data.dead[frame]] };
bars.data = { left: bars.data.left, right: bars.data.right, top: hist[frame] };
const dead = Math.round(data.dead[frame] * d_sae);
return [
  ["tokens seen", Math.round(data.tokens[frame]).toLocaleString("en")],
  ["explained variance (held out)", data.held[frame].toFixed(3)],
  ["dead latents", `${dead} of ${d_sae}`],
];
