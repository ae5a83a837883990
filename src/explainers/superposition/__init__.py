"""Superposition: five features in two dimensions (a toy model), the phase diagram of two features in one
dimension, and an SAE that finds the five directions again. ``toy`` and ``pentagon_sae`` (torch),
``train`` (the settings), ``runs`` (the typed runs), ``charts`` (Bokeh), ``facts`` (the chapter's numbers)."""
