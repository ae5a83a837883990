"""The un-mixer: a sparse dictionary learned from a drawing's patches, in the reader's browser (the
widget) and while the book builds. ``train`` (torch), ``runs`` (the typed runs), ``charts`` (Bokeh),
``facts`` (the chapter's numbers)."""
