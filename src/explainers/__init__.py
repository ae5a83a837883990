"""Library behind the explainer book: training runs (numpy/torch), a cache, and Bokeh charts.

Every scene is a folder with the same three modules: ``train`` (``runs()``: the chapter's cached runs,
no Bokeh), ``charts`` (``PAGE``, ``CHARTS = {id: title}``, ``chart(id, runs) -> Chart``; Bokeh, never
torch) and ``facts`` (``facts(runs)``: the numbers the chapter quotes). ``explainers.charts`` finds the
scenes and builds any chart by its id (``build``).
"""
