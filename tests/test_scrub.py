"""Scrubbing stays cheap, in the built book: what explainers/quick_repaint.js and the player's one draw per
animation frame promise. The speed itself is measured by benchmarks/book.py; these tests check that the
mechanisms are in place and that they never leave a chart showing a stale picture."""
import pytest

from browser import open_page

# every plot view of the page's charts, found from Bokeh's root views
PLOT_VIEWS = """() => {
  const plots = [];
  const walk = (v) => {
    if (typeof v._invalidate_layout_if_needed === "function" && v.frame) plots.push(v);
    for (const c of v.child_views || []) walk(c);
  };
  for (const r of Bokeh.index) walk(r);
  return plots;
}"""


@pytest.fixture
def visit(browser, site_url):
    opened = []

    def open_(path):
        opened.append(open_page(browser, f"{site_url}/{path}", viewport=(1280, 800)))
        return opened[-1].page

    yield open_
    for v in opened:
        assert v.problems == []
        v.page.context.close()


@pytest.mark.parametrize("path", ["book/superposition.html", "book/learning-from-reward.html"])
def test_quick_repaint_found_bokehs_internals_and_covers_every_plot(visit, path):
    """A BokehJS upgrade that moves what quick_repaint.js patches fails here, not silently in speed."""
    page = visit(path)
    plots = page.evaluate(f"() => ({PLOT_VIEWS})().length")
    steady = page.evaluate(f"() => ({PLOT_VIEWS})().filter((v) => v.__explainersQuick).length")
    assert plots > 0 and steady == plots
    assert page.evaluate("ExplainersQuickRepaint.status()") == {
        "plots": plots, "cssLookups": True, "markers": True, "styleSheets": True, "glyphElements": True,
        "drawnGlyphOnly": True}


# Count every measurement of an axis's size (its tick labels' text) from now on.
COUNT_AXIS_MEASURES = f"""() => {{
  window.__axisMeasures = 0;
  for (const plot of ({PLOT_VIEWS})()) {{
    for (const view of plot.renderer_views.values()) {{
      if (!view.model.type.endsWith("Axis")) continue;
      const measure = view.get_size.bind(view);
      view.get_size = () => {{ window.__axisMeasures++; return measure(); }};
    }}
  }}
}}"""

LOSS_PLOT_LEFT = f"""() => ({PLOT_VIEWS})().find((v) => v.model.title.text.startsWith("Loss")).frame.bbox.left"""


def test_a_scrub_step_measures_no_axis_but_a_new_range_is_laid_out_again(visit):
    page = visit("book/one-neuron.html")
    page.locator("#chart-one-neuron").focus()
    # the page settles first: its web fonts loaded and a first step drawn (a busy machine may still be
    # laying the chart out for them when the page reports loaded)
    page.evaluate("document.fonts.ready.then(() => undefined)")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(500)
    page.evaluate(COUNT_AXIS_MEASURES)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(100)
    assert page.evaluate("window.__axisMeasures") == 0
    # a range whose tick labels are wider: the plot measures its axis again and its frame moves right
    left = page.evaluate(LOSS_PLOT_LEFT)
    page.evaluate(f"""() => {{
      const plot = ({PLOT_VIEWS})().find((v) => v.model.title.text.startsWith("Loss"));
      plot.model.y_range.end = 123456789;
    }}""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__axisMeasures") > 0
    assert page.evaluate(LOSS_PLOT_LEFT) > left + 20


def test_slider_changes_within_one_frame_draw_once_with_the_latest_value(visit):
    page = visit("book/one-neuron.html")
    drawn = page.evaluate("""async () => {
      const slider = Bokeh.documents.map((d) => d.get_model_by_name("one-neuron-slider")).find(Boolean);
      const frames = [];
      const rendered = ExplainersPlayer.rendered;
      ExplainersPlayer.rendered = (id, frame, parts) => { if (id === "one-neuron") frames.push(frame);
                                                          return rendered(id, frame, parts); };
      for (const value of [3, 4, 5, 6, 7]) slider.value = value;  // five changes before any repaint
      for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r));
      await new Promise((r) => setTimeout(r, 50));
      const late = [];
      for (const value of [8, 9]) { slider.value = value; await new Promise((r) => setTimeout(r, 0)); }
      for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r));
      ExplainersPlayer.rendered = rendered;
      return frames;
    }""")
    assert drawn[0] == 7 and drawn.count(7) == 1  # one draw for the five changes, of the last of them
    assert drawn[-1] == 9  # whatever came between, the last value is the one on screen
    assert "Step" in page.locator("#chart-one-neuron .explainers-readout").inner_text()


def test_player_slider_shows_no_frame_index_tooltip(visit):
    page = visit("book/one-neuron.html")
    tooltips = page.evaluate("""() => {
      let found = 0;
      const walk = (v) => {
        if (v.model.name === "one-neuron-slider") found += v.shadow_el.querySelectorAll(".noUi-tooltip").length;
        for (const c of v.child_views || []) walk(c);
      };
      for (const r of Bokeh.index) walk(r);
      return found;
    }""")
    assert tooltips == 0


DEAD_LATENTS = """() => {
  const holder = document.querySelector("#chart-pentagon-sae [data-root-id]");
  const doc = Bokeh.documents.find((d) => d.roots()[0].id === holder.dataset.rootId);
  const models = [...doc.all_models];
  const marks = models.find((m) => m.type === "ColumnDataSource" && Object.keys(m.data).sort().join() === "latent,y");
  const entry = models.find((m) => m.type === "LegendItem" && m.label && m.label.value === "dead latent");
  return [marks.data.latent.length, entry.visible];
}"""


def test_pentagon_legend_lists_dead_latents_exactly_while_the_frame_has_some(visit):
    page = visit("book/superposition.html")
    chart = page.locator("#chart-pentagon-sae")
    chart.focus()
    seen = set()
    for _ in range(20):
        dead, listed = page.evaluate(DEAD_LATENTS)
        assert listed == (dead > 0)
        seen.add(listed)
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(60)
    for run in chart.locator(".bk-btn-group").first.locator("button").all()[1:]:  # the other runs
        run.click()
        page.wait_for_timeout(100)
        dead, listed = page.evaluate(DEAD_LATENTS)
        assert listed == (dead > 0)
        seen.add(listed)
    assert seen == {True, False}  # the walk met both cases


# After frames in which only the drawn glyph view followed the data, a selection brings the renderer's
# other views up to date before they are drawn: here the unselected marks' view, sized to the rows of the
# run now shown (runs differ in their number of latents).
CATCH_UP = """async () => {
  const holder = document.querySelector("#chart-pentagon-sae [data-root-id]");
  const doc = Bokeh.documents.find((d) => d.roots()[0].id === holder.dataset.rootId);
  const latents = [...doc.all_models].find((m) => m.type === "ColumnDataSource" && "mark_width" in m.data);
  const view = [...Bokeh.index.query((v) => v.model && v.model.data_source === latents && v.glyph)]
    .find((v) => v.model.glyph.type === "Segment");
  const runs = doc.get_model_by_name("pentagon-sae-run");
  const rows = () => latents.data.x0.length;
  const otherRows = () => (view.nonselection_glyph.x0 ? view.nonselection_glyph.x0.length : null);
  const before = rows();
  for (let run = 0; run < runs.labels.length && rows() === before; run++) {
    runs.active = run;
    await new Promise((r) => setTimeout(r, 100));
  }
  const stale = view.__explainersStale, staleRows = otherRows();
  latents.selected.indices = [0];
  for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r));
  await new Promise((r) => setTimeout(r, 100));
  return { before, now: rows(), stale, staleRows, caughtUp: otherRows() };
}"""


def test_a_selection_brings_a_renderers_other_glyph_views_up_to_date(visit):
    page = visit("book/superposition.html")
    result = page.evaluate(CATCH_UP)
    assert result["now"] != result["before"]  # a run with another number of latents
    assert result["stale"] and result["staleRows"] != result["now"]  # only the drawn view followed it
    assert result["caughtUp"] == result["now"]
