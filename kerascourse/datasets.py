"""How the course gets its data sets, offline included.

The notebooks call the real APIs (``keras.datasets.fashion_mnist.load_data()``, ``tfds.load(...)``).
Keras looks for its files under ``$KERAS_HOME/datasets`` before downloading anything, so filling
that folder is all the offline path needs: no different API, no copy of Keras' loading code.

Run ``python -m kerascourse`` (the Makefile does) to fill every cache (this one, the TFDS data
in :mod:`kerascourse.tfds_data` and the explorers' runs); it reports what is ready and what is
missing, with the command that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kerascourse.paths import KERAS_HOME

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# Debian's `dataset-fashion-mnist` package installs the four original IDX files here.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)

HOW_TO_GET_FASHION_MNIST = (
    "Fashion-MNIST is not in the course's data cache ({cache}).\n"
    "  - Offline (Debian/Ubuntu): sudo apt-get install dataset-fashion-mnist, then run\n"
    "    `make data` (or `python -m kerascourse`) to link it into the cache.\n"
    "  - Online: keras.datasets.fashion_mnist.load_data() downloads it into the cache itself."
)


@dataclass(frozen=True)
class DataStatus:
    """Whether one data set is usable, and if not, what to do about it."""

    name: str
    ready: bool
    detail: str


def fashion_mnist_cache(keras_home: Path = KERAS_HOME) -> Path:
    """The folder ``keras.datasets.fashion_mnist.load_data()`` reads."""
    return keras_home / "datasets" / "fashion-mnist"


def keras_fashion_mnist_status(keras_home: Path = KERAS_HOME) -> DataStatus:
    """Check the Fashion-MNIST cache without importing TensorFlow (fast enough for every set-up cell)."""
    cache = fashion_mnist_cache(keras_home)
    missing = [name for name in FASHION_MNIST_FILES if not (cache / name).is_file()]
    if not missing:
        return DataStatus("fashion_mnist", True, f"ready in {cache}")
    return DataStatus("fashion_mnist", False, HOW_TO_GET_FASHION_MNIST.format(cache=cache))


def link_fashion_mnist(
    keras_home: Path = KERAS_HOME, source: Path = DEBIAN_FASHION_MNIST
) -> DataStatus:
    """Link Debian's Fashion-MNIST files into the Keras cache (idempotent).

    Keras does not hash-check these files, so links to the original IDX files are read exactly
    as a download would be. Nothing is copied into the repository.
    """
    status = keras_fashion_mnist_status(keras_home)
    if status.ready or not all((source / name).is_file() for name in FASHION_MNIST_FILES):
        return status
    cache = fashion_mnist_cache(keras_home)
    cache.mkdir(parents=True, exist_ok=True)
    for name in FASHION_MNIST_FILES:
        target = cache / name
        if target.is_symlink() and not target.exists():
            target.unlink()  # a dangling link left by an uninstalled package
        if not target.exists():
            target.symlink_to(source / name)
    return keras_fashion_mnist_status(keras_home)
