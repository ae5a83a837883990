"""One neuron learns: linear regression on California Housing, trained by gradient descent.
``train`` (torch), ``runs`` (the typed runs), ``charts`` (Bokeh), ``facts`` (the chapter's numbers)."""
