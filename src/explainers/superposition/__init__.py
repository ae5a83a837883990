"""Superposition: five features in two neurons (a toy model), the phase diagram of two features in one
neuron, and an SAE that finds the five directions again. ``train`` (torch), ``charts`` (Bokeh),
``facts`` (the chapter's numbers)."""
