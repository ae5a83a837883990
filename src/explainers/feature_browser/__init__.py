"""The feature browser: every live feature of the book's SAE, searchable, on one static page.

Modules: ``train`` (the cached stage: each feature's evidence, from the cached codes and SAE; torch),
``explanations`` (the real-model page's explain-and-score loop, run for every live feature at once),
``notes`` (what the book's other pages say about a feature), ``render`` (the page and its data files;
no torch) and ``facts`` (the numbers the page quotes). This file imports none of them, so that importing
the renderer does not import torch.
"""
