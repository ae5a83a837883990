"""Library behind the explainer book: training runs (numpy/torch), a cache, and Bokeh charts.

Every scene is a folder with the same modules: ``train`` (the cached training, no Bokeh), ``runs``
(``runs()``: the chapter's runs as one frozen dataclass of ``explainers.runs.Runs``, and ``tiny_config()``),
``charts`` (``PAGE``, ``CHARTS = {id: title}``, ``chart(id, runs) -> Chart``; Bokeh, never torch) and
``facts`` (``facts(runs)``: the numbers the chapter quotes); charts and facts read the runs' attributes and
never import each other. ``explainers.charts`` finds the
scenes and builds any chart by its id (``build``).
"""
