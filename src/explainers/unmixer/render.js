// One frame of the learned-dictionary chart. Reads: frame, choice.sparsity; returns readout pairs.
const run = choice.sparsity;
const k = run * n_frames + frame;
grid.data = { image: [mosaics.data.image[k]], x: [0], y: [0], dw: [size], dh: [size] };
pictures.data = { image: [drawings.data.image[run], reconstructions.data.image[run]],
                  x: [0, 140], y: [0, 0], dw: [128, 128], dh: [128, 128] };
chosen.data = { l0: [tradeoff.data.l0[run_rows[run]]], ev: [tradeoff.data.explained_variance[run_rows[run]]] };
const at = (name) => stats.data[name][k];
return [
  ["λ", labels[run]],
  ["explained variance", at("explained_variance").toFixed(3)],
  ["L0 (active atoms per patch)", at("l0").toFixed(1)],
  ["dead atoms", `${at("dead")} of ${n_atoms}`],
];
