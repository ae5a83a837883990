// One frame of the serial-vs-parallel chart: each output cell's state at this time step.
// Reads: frame, cells (the grid's source), states (one flat frames×cells array of codes per schedule),
// n_cells, state_names, state_widths, schedules; returns the readout pairs.
const data = Object.assign({}, cells.data);
const parts = [];
for (let s = 0; s < schedules.length; s++) {
  const codes = states[s];
  const start = frame * n_cells;
  const names = new Array(n_cells);
  const widths = new Array(n_cells);
  let done = 0;
  for (let i = 0; i < n_cells; i++) {
    const code = codes[start + i];
    names[i] = state_names[code];
    widths[i] = state_widths[code];
    if (code === 2) done++;
  }
  data["state" + s] = names;
  data["edge" + s] = widths;
  const total = schedules[s].steps;
  const finished = done === n_cells ? ` (finished in ${total} step${total === 1 ? "" : "s"})` : "";
  parts.push([schedules[s].title, `${done}/${n_cells} done${finished}`]);
}
cells.data = data;
return parts;
