"""Prepare the TensorFlow Datasets (TFDS) data the course reads, offline.

The lessons call the real ``tfds.load('iris', ...)`` and ``tfds.load('fashion_mnist', ...)``. TFDS
reads prepared data from ``$TFDS_DATA_DIR/<name>/<version>/`` before it tries to download
anything, so preparing that folder is all the offline path needs. The builders below are the real
TFDS builders (same name, version, features and split names, so ``tfds.load`` cannot tell the
difference); only the step that would download the raw files is replaced by reading copies that
are already on the machine:

- iris from scikit-learn's bundled copy (small: the prepared files are committed);
- fashion_mnist from the original IDX files of Debian's ``dataset-fashion-mnist`` package, the same
  files the Keras cache links to (about 30 MB prepared: built at set-up time, git-ignored). Its
  images are PNG-encoded by :mod:`kerascourse.png_encoding`, byte for byte as TFDS's encoder
  would, in a fraction of the time.

Importing TFDS also imports TensorFlow (seconds), so the status checks look at the files only and
TFDS is imported only when something has to be built.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

import numpy as np

from kerascourse.datasets import DEBIAN_FASHION_MNIST, FASHION_MNIST_FILES, DataStatus
from kerascourse.paths import TFDS_DATA_DIR, apply_kernel_env
from kerascourse.png_encoding import encode_grayscale_pngs, matches_tensorflow

# The versions of the registered builders in tensorflow-datasets 4.9 (checked when building).
IRIS_VERSION = "2.1.0"
FASHION_MNIST_VERSION = "3.0.1"

HOW_TO_GET_FASHION_MNIST = (
    "TFDS's fashion_mnist is not prepared in {data_dir} and the IDX files it is built from are "
    "missing ({source}).\n"
    "  - Offline (Debian/Ubuntu): sudo apt-get install dataset-fashion-mnist, then run\n"
    "    `make data` (or `python -m kerascourse`) to prepare it.\n"
    "  - Online: tfds.load('fashion_mnist') downloads and prepares it itself."
)


def prepared_dir(name: str, version: str, data_dir: Path = TFDS_DATA_DIR) -> Path:
    """The folder ``tfds.load(name)`` reads for this version."""
    return data_dir / name / version


def tfds_status(
    name: str, version: str, expected_examples: dict[str, int], data_dir: Path = TFDS_DATA_DIR
) -> DataStatus:
    """Whether a prepared TFDS data set is complete, judged from its files (no TFDS import).

    TFDS writes ``dataset_info.json`` last, listing every split with its number of examples and
    shards; a build that was interrupted has no such file or misses a shard.
    """
    folder = prepared_dir(name, version, data_dir)
    info_file = folder / "dataset_info.json"
    if not info_file.is_file():
        return DataStatus(f"tfds {name}", False, f"not prepared in {folder}")
    splits = {split["name"]: split for split in json.loads(info_file.read_text()).get("splits", [])}
    for split, count in expected_examples.items():
        lengths = splits.get(split, {}).get("shardLengths", [])
        if sum(int(n) for n in lengths) != count:
            return DataStatus(f"tfds {name}", False, f"split {split!r} is incomplete in {folder}")
        shards = list(folder.glob(f"{name}-{split}.tfrecord-*-of-*"))
        if len(shards) != len(lengths):
            return DataStatus(f"tfds {name}", False, f"split {split!r} misses shard files in {folder}")
    return DataStatus(f"tfds {name}", True, f"ready in {folder}")


def tfds_iris_status(data_dir: Path = TFDS_DATA_DIR) -> DataStatus:
    return tfds_status("iris", IRIS_VERSION, {"train": 150}, data_dir)


def tfds_fashion_mnist_status(data_dir: Path = TFDS_DATA_DIR) -> DataStatus:
    return tfds_status(
        "fashion_mnist", FASHION_MNIST_VERSION, {"train": 60_000, "test": 10_000}, data_dir
    )


def iris_records() -> list[str]:
    """Iris as the lines of UCI's ``iris.data`` (what the real builder parses), from scikit-learn.

    scikit-learn's copy follows Fisher's paper: rows 35 and 38 differ from UCI's file by one
    measurement each (UCI documents the two errors in its own file). The order of the 150 rows and
    the class names are the same.
    """
    from sklearn.datasets import load_iris

    iris = load_iris()
    return [
        ",".join(str(float(x)) for x in row) + f",Iris-{iris.target_names[target]}"
        for row, target in zip(iris.data, iris.target, strict=True)
    ]


def read_idx(path: Path) -> np.ndarray:
    """Read one gzipped IDX file (images: n x 28 x 28 x 1, labels: n) as uint8 / int64."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return array[..., None] if ndim == 3 else array.astype(np.int64)


def png_images(images: np.ndarray) -> list[bytes] | np.ndarray:
    """The images PNG-encoded as TFDS would store them, or the arrays for TFDS to encode itself.

    TFDS's own encoder calls a TensorFlow op per image: 13 of the 17 seconds of preparing
    fashion_mnist. :mod:`kerascourse.png_encoding` writes the same bytes in about 3 seconds; it
    encodes a sample first and compares it with TensorFlow's, and where this machine's zlib deflates
    differently TFDS gets the arrays (the same pixels either way, only slower).
    """
    sample = images[::max(1, len(images) // 64)]
    if matches_tensorflow(sample, encode_grayscale_pngs(sample)):
        return encode_grayscale_pngs(images)
    print("kerascourse: this zlib does not deflate as TensorFlow's does: TFDS encodes the images itself",
          file=sys.stderr)
    return images


def _builders(source: Path):
    """The offline builders (defined here: importing TFDS imports TensorFlow)."""
    import tensorflow_datasets as tfds
    from tensorflow_datasets.image_classification.mnist import FashionMNIST
    from tensorflow_datasets.structured.iris import Iris

    class OfflineIris(Iris, skip_registration=True):
        """TFDS's iris builder, reading scikit-learn's copy instead of downloading UCI's file."""

        name = "iris"

        def _split_generators(self, dl_manager):
            return [
                tfds.core.SplitGenerator(
                    name=tfds.Split.TRAIN, gen_kwargs={"records": iris_records()}
                )
            ]

    class OfflineFashionMNIST(FashionMNIST, skip_registration=True):
        """TFDS's fashion_mnist builder, reading the local IDX files instead of downloading them."""

        name = "fashion_mnist"

        def _split_generators(self, dl_manager):
            return [
                tfds.core.SplitGenerator(
                    name=split,
                    gen_kwargs={
                        "images": source / f"{prefix}-images-idx3-ubyte.gz",
                        "labels": source / f"{prefix}-labels-idx1-ubyte.gz",
                    },
                )
                for split, prefix in ((tfds.Split.TRAIN, "train"), (tfds.Split.TEST, "t10k"))
            ]

        def _generate_examples(self, images, labels):
            pictures, classes = png_images(read_idx(images)), read_idx(labels)
            for index, (image, label) in enumerate(zip(pictures, classes, strict=True)):
                yield index, {"image": image, "label": label}

    for builder, version in ((OfflineIris, IRIS_VERSION), (OfflineFashionMNIST, FASHION_MNIST_VERSION)):
        if str(builder.VERSION) != version:
            raise RuntimeError(
                f"tensorflow-datasets' {builder.name} builder is version {builder.VERSION}, "
                f"the course expects {version}: update kerascourse/tfds_data.py"
            )
    return OfflineIris, OfflineFashionMNIST


def _build(builder_class, data_dir: Path) -> None:
    apply_kernel_env(os.environ)  # quiet TensorFlow's C++ logging, as in the course's kernels
    import tensorflow_datasets as tfds

    tfds.disable_progress_bar()

    builder = builder_class(data_dir=str(data_dir))
    # No download happens (the split generators read local files); nothing may reach the network.
    config = tfds.download.DownloadConfig(try_download_gcs=False)
    builder.download_and_prepare(download_config=config)


def prepare_iris(data_dir: Path = TFDS_DATA_DIR) -> DataStatus:
    """Prepare TFDS's iris from scikit-learn's copy (idempotent; fast when already prepared)."""
    status = tfds_iris_status(data_dir)
    if not status.ready:
        _build(_builders(DEBIAN_FASHION_MNIST)[0], data_dir)
        status = tfds_iris_status(data_dir)
    return status


def prepare_fashion_mnist(
    data_dir: Path = TFDS_DATA_DIR, source: Path = DEBIAN_FASHION_MNIST
) -> DataStatus:
    """Prepare TFDS's fashion_mnist from the original IDX files (idempotent; about 8 s the first time)."""
    status = tfds_fashion_mnist_status(data_dir)
    if status.ready:
        return status
    if not all((source / name).is_file() for name in FASHION_MNIST_FILES):
        return DataStatus(
            "tfds fashion_mnist",
            False,
            HOW_TO_GET_FASHION_MNIST.format(data_dir=data_dir, source=source),
        )
    _build(_builders(source)[1], data_dir)
    return tfds_fashion_mnist_status(data_dir)
