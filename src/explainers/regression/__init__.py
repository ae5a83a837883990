"""One neuron learns: linear regression on California Housing, trained by gradient descent."""
from .train import RegressionConfig, book_runs, train

__all__ = ["RegressionConfig", "book_runs", "train"]
