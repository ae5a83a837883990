"""Library behind the explainer book: training runs (numpy/torch), a cache, and Bokeh charts.

Every topic exposes the same two verbs: ``train(config) -> Timeline`` and ``chart(timeline) -> layout``.
"""
