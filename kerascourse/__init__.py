"""Shared helpers for the Keras course notebooks.

One small module instead of the same set-up and plotting code pasted into every lesson
(the d2l approach). Lessons import what they need::

    from kerascourse import setup_notebook, show_images

The names are loaded on first use (PEP 562): the grader imports ``kerascourse.paths`` in every
submission's nbgrader process, and importing the plotting helpers (matplotlib) there too would
cost about half a second per submission for nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kerascourse.datasets import FASHION_MNIST_CLASSES
    from kerascourse.notebook import setup_notebook
    from kerascourse.plots import plot_history, show_images

_HOMES = {
    "FASHION_MNIST_CLASSES": "kerascourse.datasets",
    "setup_notebook": "kerascourse.notebook",
    "plot_history": "kerascourse.plots",
    "show_images": "kerascourse.plots",
}
__all__ = ["FASHION_MNIST_CLASSES", "plot_history", "setup_notebook", "show_images"]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kerascourse' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
