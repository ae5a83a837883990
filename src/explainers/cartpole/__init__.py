"""Learning from reward: a CartPole agent trained with REINFORCE (``train``) for the chapter's charts."""
from .train import CartPoleConfig, moving_average, solved_episode, train

__all__ = ["CartPoleConfig", "moving_average", "solved_episode", "train"]
