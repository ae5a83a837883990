"""Learning from reward: a CartPole agent trained with REINFORCE. ``train`` (torch, gymnasium),
``runs`` (the typed run), ``charts`` (Bokeh), ``facts`` (the chapter's numbers), ``words`` (what both say
about an episode)."""
