"""Superposition: five features in two dimensions (a toy model), the phase diagram of two features in one
dimension, and an SAE that finds the five directions again. ``train`` (torch), ``charts`` (Bokeh),
``facts`` (the chapter's numbers)."""
