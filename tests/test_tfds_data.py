"""The offline TFDS data: iris from scikit-learn, fashion_mnist from the IDX files, read by tfds.load."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import numpy as np
import pytest

from kerascourse import tfds_data
from kerascourse.datasets import DEBIAN_FASHION_MNIST, FASHION_MNIST_FILES
from kerascourse.paths import TFDS_DATA_DIR, kernel_env


def test_iris_records_are_lines_of_ucis_file():
    records = tfds_data.iris_records()
    assert len(records) == 150
    assert records[0] == "5.1,3.5,1.4,0.2,Iris-setosa"
    assert records[-1] == "5.9,3.0,5.1,1.8,Iris-virginica"
    labels = [r.rsplit(",", 1)[1] for r in records]
    assert {name: labels.count(name) for name in set(labels)} == {
        "Iris-setosa": 50, "Iris-versicolor": 50, "Iris-virginica": 50}


def _idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))
    return path


def test_read_idx_reads_images_and_labels(tmp_path):
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    got = tfds_data.read_idx(_idx(tmp_path / "images.gz", images))
    assert got.shape == (2, 28, 28, 1) and got.dtype == np.uint8
    assert np.array_equal(got[..., 0], images)
    labels = tfds_data.read_idx(_idx(tmp_path / "labels.gz", np.array([9, 0, 3])))
    assert labels.tolist() == [9, 0, 3] and labels.dtype == np.int64


def _fake_prepared(data_dir, shard_lengths=("150",), shards=1):
    folder = tfds_data.prepared_dir("iris", tfds_data.IRIS_VERSION, data_dir)
    folder.mkdir(parents=True)
    info = {"splits": [{"name": "train", "shardLengths": list(shard_lengths)}]}
    (folder / "dataset_info.json").write_text(json.dumps(info))
    for i in range(shards):
        (folder / f"iris-train.tfrecord-{i:05d}-of-{shards:05d}").write_bytes(b"")


def test_status_is_read_from_the_files(tmp_path):
    assert not tfds_data.tfds_iris_status(tmp_path).ready
    _fake_prepared(tmp_path)
    assert tfds_data.tfds_iris_status(tmp_path).ready


@pytest.mark.parametrize(("lengths", "shards"), [(("100",), 1), (("75", "75"), 1)])
def test_an_interrupted_build_is_not_ready(tmp_path, lengths, shards):
    _fake_prepared(tmp_path, lengths, shards)
    status = tfds_data.tfds_iris_status(tmp_path)
    assert not status.ready and "split 'train'" in status.detail


def test_missing_idx_files_say_how_to_get_them(tmp_path):
    status = tfds_data.prepare_fashion_mnist(tmp_path / "tfds", tmp_path / "no-such-package")
    assert not status.ready
    assert "apt-get install dataset-fashion-mnist" in status.detail and "make data" in status.detail


def test_committed_iris_is_ready():
    status = tfds_data.tfds_iris_status()
    assert status.ready, f"{status.detail}: run `python -m kerascourse`"


_LOAD_IRIS = """
import numpy as np, tensorflow_datasets as tfds
from sklearn.datasets import load_iris
train = tfds.load("iris", split="train[:80%]", download=False)
test = tfds.load("iris", split="train[80%:]", download=False, as_supervised=True)
rows = [(tuple(e["features"].tolist()), int(e["label"])) for e in tfds.as_numpy(train)]
rows += [(tuple(x.tolist()), int(y)) for x, y in tfds.as_numpy(test)]
iris = load_iris()
expected = [(tuple(x.astype(np.float32).tolist()), int(y)) for x, y in zip(iris.data, iris.target)]
assert len(rows) == 150 and (len(rows) - len(list(test))) == 120, len(rows)
assert sorted(rows) == sorted(expected), "tfds's iris differs from scikit-learn's"
print("ok")
"""


def test_tfds_load_reads_the_prepared_iris_offline():
    """The unchanged student call, in a course kernel's environment (TFDS_DATA_DIR set)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(TFDS_DATA_DIR.parent), **kernel_env()}
    proc = subprocess.run([sys.executable, "-c", _LOAD_IRIS], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


_LOAD_FASHION = """
import numpy as np, keras, tensorflow_datasets as tfds
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
test = tfds.load("fashion_mnist", split="test", as_supervised=True, download=False)
images, labels = zip(*tfds.as_numpy(test.take(500)))
images, labels = np.stack(images)[..., 0], np.array(labels)
# tfds stores the examples in its own (shuffled, fixed) order: match each image to Keras' copy.
index = {x.tobytes(): i for i, x in enumerate(x_test)}
found = [index[x.tobytes()] for x in images]
assert np.array_equal(y_test[found], labels), "labels differ from Keras' copy"
assert len(test) == 10000 and len(tfds.load("fashion_mnist", split="train", download=False)) == 60000
print("ok")
"""


@pytest.mark.skipif(not tfds_data.tfds_fashion_mnist_status().ready,
                    reason="tfds fashion_mnist not prepared (python -m kerascourse)")
@pytest.mark.skipif(not all((DEBIAN_FASHION_MNIST / n).is_file() for n in FASHION_MNIST_FILES),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_tfds_fashion_mnist_matches_the_keras_copy():
    env = {"PATH": "/usr/bin:/bin", "HOME": str(TFDS_DATA_DIR.parent), **kernel_env()}
    proc = subprocess.run([sys.executable, "-c", _LOAD_FASHION], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
