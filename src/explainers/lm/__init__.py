"""A real language model (SmolLM2-135M-Instruct): a polysemantic neuron, and a TopK SAE that separates
its meanings into features, measured against the labels of a corpus written for the book.

Modules: ``model`` (loader), ``corpus`` and ``wordnet`` (the text), ``activations`` (the activation store),
``edit`` (editing the residual stream), ``sae`` (the SAE and its trainer), ``codes`` (every token's
sparse code), ``stages`` (the cached pipeline, ``LanguageRun``), ``detection`` (AUCs and their intervals),
``explain`` (automated interpretation) and ``shading`` (tokens shaded by activation). The chapters built
on them are ``real_model``, ``steering`` and ``feature_browser``. This file imports none of them, so that
the cache key of one run does not change with the code of another.
"""
