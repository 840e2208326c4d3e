"""Plots that several lessons draw, so each lesson shows the idea rather than the plotting code.

They show the figure and return nothing: a notebook cell that ends in an expression returning a
Figure prints its repr, and nbval cannot rely on a trailing ``;`` to hide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np


def show_images(
    images: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    class_names: Sequence[str],
    *,
    ncols: int = 8,
    predictions: Sequence[int] | np.ndarray | None = None,
    title: str | None = None,
) -> None:
    """Show images in a grid, each titled with its class name.

    With ``predictions``, a title reads ``true -> predicted`` and is red where they differ, which is
    how the later lessons show misclassified images.
    """
    n = len(images)
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.5 * ncols, 1.7 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="binary")
        name = class_names[int(labels[i])]
        if predictions is None:
            ax.set_title(name, fontsize=8)
        else:
            guess = class_names[int(predictions[i])]
            wrong = int(predictions[i]) != int(labels[i])
            ax.set_title(f"{name}\n-> {guess}", fontsize=8, color="red" if wrong else "black")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def plot_history(
    history: Any, metrics: Sequence[str] = ("loss",), *, title: str | None = None
) -> None:
    """Plot each metric per epoch from a Keras ``History`` (or its ``.history`` dict).

    Validation curves (``val_<metric>``) are drawn beside their training curve when present.
    """
    logs = getattr(history, "history", history)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=True):
        if metric not in logs:
            raise KeyError(f"{metric!r} is not in the history; it has {sorted(logs)}")
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], "o-", label=f"training {metric}")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], "s--", label=f"validation {metric}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric if title is None else f"{title}: {metric}")
        ax.legend()
    fig.tight_layout()
    plt.show()
