"""Shared helpers for the Keras course notebooks.

One small module instead of the same set-up and plotting code pasted into every lesson
(the d2l approach). Lessons import what they need::

    from kerascourse import setup_notebook, show_images
"""

from kerascourse.datasets import FASHION_MNIST_CLASSES
from kerascourse.notebook import setup_notebook
from kerascourse.plots import plot_history, show_images

__all__ = ["FASHION_MNIST_CLASSES", "plot_history", "setup_notebook", "show_images"]
