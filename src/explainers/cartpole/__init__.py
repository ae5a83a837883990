"""Learning from reward: a CartPole agent trained with REINFORCE. ``train`` (torch, gymnasium),
``charts`` (Bokeh), ``facts`` (the chapter's numbers)."""
