// One setting of the steering chart. Reads: frame (the strength's index), choice.concept, choice.method.
const c = choice.concept, m = choice.method;
for (const [i, source] of [[0, lines_feature], [1, lines_direction]]) {
  if (source.shownConcept !== c) {  // the curves change only when the concept does
    source.data = { x: strengths, mention: curves[c][i].mention_fraction, loss: curves[c][i].loss };
    source.shownConcept = c;
  }
}
const curve = curves[c][m];
const loss = curve.loss[frame];
marker.data = { x: [strengths[frame]], mention: [curve.mention_fraction[frame]], loss: [loss] };
// A Div whose text changes makes Bokeh lay the whole chart out again (every axis measured: about 15 ms a
// frame). The answers sit in the page's own flow, where the browser sizes them: so the new text goes into
// the Div's element directly, and into its model quietly (what the model says stays true).
const text = pages[c][m][frame];
if (answers.text !== text) {
  const view = answers.shownView || (answers.shownView = Bokeh.index.find_one(answers));
  if (view && view.markup_el) {
    answers.setv({ text }, { silent: true });
    view.markup_el.innerHTML = text;
  } else {
    answers.text = text;
  }
}
return [
  ["strength", `${strengths[frame]}× largest activation`],
  ["mention the concept", `${Math.round(curve.mention_fraction[frame] * 100)}%`],
  ["loss", Number.isFinite(loss) ? `${loss.toFixed(2)} nats/token` : "no answer"],
  ["repeated 3-grams", `${Math.round(curve.repetition[frame] * 100)}%`],
];
