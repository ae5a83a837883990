"""A real language model (SmolLM2-135M-Instruct): a polysemantic neuron, and a TopK SAE that separates
its meanings into features, measured against the labels of a corpus written for the book.

Modules: ``model`` (loader), ``corpus`` (the text), ``activations`` (the activation store), ``sae`` (the
SAE, its trainer and measures), ``train`` (the cached runs), ``analysis`` (what the chapter shows;
``book_run``), ``chart`` (Bokeh) and ``report`` (numbers and HTML). This file imports none of them, so
that the cache key of one run does not change with the code of another.
"""
