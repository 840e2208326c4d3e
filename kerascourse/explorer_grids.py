"""The precomputed training runs behind the lessons' interactive explorers (``kerascourse.explorers``).

A slider must answer in well under 2 s on a 2-core laptop, and even a tiny Keras run takes longer,
so every run an explorer can show is trained once, here, and committed under ``data/explorers/``
(one ``.npz`` file per grid, about 45 KB in all). The explorers only read those arrays and draw.
Committed rather than built by each clone's set-up, for two reasons:

- every machine shows the same curves. Built on another CPU, a stable run changes only in its
  last digits, but an unstable one takes another path: with TensorFlow's oneDNN kernels on, the
  optimizers grid's largest learning rates ended up to 0.27 apart in loss;
- a clone's set-up trains nothing: building every grid took about 30 s of a fresh clone's set-up
  on 2 cores, and a minute of CPU.

The runs are real Keras training on real data (Fashion-MNIST subsets read through
``keras.datasets.fashion_mnist.load_data()`` from the course cache): the curves are what ``fit``
gives, not a simulation. They are made deterministic the way the lessons are (the course kernel's
environment: one TensorFlow thread, fixed seeds, deterministic ops), so a rebuild on another
machine of the same kind gives the same numbers. To stay cheap (all grids in about a minute of
CPU, shared over the cores by :func:`prepare`), the runs use small subsets and small models and
feed ``fit`` a shuffled ``tf.data`` pipeline (the same kind of updates as arrays, without Keras'
per-fit array-pipeline overhead), and a grid whose runs share one architecture trains one compiled
model again and again from the same saved initial weights and optimizer state: the same numbers as
a fresh model (checked when this was written), without rebuilding and retracing it for every run.

Each file carries a fingerprint of what made it: the grid's parameters, the versions of Keras,
TensorFlow and NumPy, and this module's source. The set-up step (``python -m kerascourse``, run by
``make setup`` / ``make data``) rebuilds a grid only when its file is missing or its fingerprint
differs, so the course still works with other versions. After any change to this module, rebuild
and commit ``data/explorers/`` (``tests/test_explorers.py`` fails until the committed grids are
the ones in use).

    python -m kerascourse.explorer_grids            # build what is missing or stale
    python -m kerascourse.explorer_grids --force    # rebuild everything
    python -m kerascourse.explorer_grids --out DIR early_stopping   # one grid, elsewhere
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from kerascourse.datasets import DataStatus, keras_fashion_mnist_status
from kerascourse.notebook import configure_tensorflow
from kerascourse.paths import DATA_DIR, REPO_ROOT, apply_kernel_env

CACHE_DIR = DATA_DIR / "explorers"
SEED = 42
# Where a notebook builds a missing grid when data/ is read-only (the grading sandbox).
FALLBACK_DIR = Path(tempfile.gettempdir()) / f"keras-course-explorers-{getattr(os, 'getuid', lambda: 0)()}"
HOW_TO_BUILD = (
    "The runs this explorer shows are not in the course's cache ({path}).\n"
    "Build them once (about a minute) in a terminal at the course folder with\n"
    "    make data        (or: .venv/bin/python -m kerascourse)\n"
    "then run this cell again."
)

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Grid:
    """One explorer's precomputed runs: the parameters they span and the arrays they logged."""

    name: str
    params: dict[str, Any]
    arrays: Arrays = field(repr=False)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


@dataclass(frozen=True)
class GridSpec:
    """How to build one grid: its lesson, the parameters that determine it, and the builder."""

    name: str
    lesson: str
    params: dict[str, Any]
    build: Callable[[dict[str, Any]], Arrays]
    cost_s: float  # CPU seconds it took on the (shared) 2-core machine: how prepare() shares out work


# -- status (no TensorFlow: every explorer and every set-up run checks this) -------------------

def _package_version(*names: str) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "none"


def fingerprint(spec: GridSpec) -> str:
    """What the grid's numbers depend on, hashed: a change to any of it means a rebuild."""
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    payload = {
        "name": spec.name,
        "params": spec.params,
        "versions": {
            "keras": _package_version("keras"),
            "tensorflow": _package_version("tensorflow-cpu", "tensorflow"),
            "numpy": _package_version("numpy"),
        },
        "builder": source,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def grid_path(name: str, cache_dir: Path = CACHE_DIR) -> Path:
    return cache_dir / f"{name}.npz"


def _stored_meta(path: Path) -> dict[str, Any] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return json.loads(str(data["__meta__"]))
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile):
        return None  # missing, truncated or not ours: rebuild


def grid_status(name: str, cache_dir: Path = CACHE_DIR) -> DataStatus:
    """Whether a grid's file is present and was built from the current parameters and code."""
    path = grid_path(name, cache_dir)
    meta = _stored_meta(path)
    label = f"explorer runs {name}"
    if meta is None:
        return DataStatus(label, False, HOW_TO_BUILD.format(path=path))
    if meta.get("fingerprint") != fingerprint(GRIDS[name]):
        return DataStatus(label, False, "built by other code or versions; " +
                          HOW_TO_BUILD.format(path=path))
    return DataStatus(label, True, f"ready in {path}")


def load_grid(name: str, cache_dir: Path = CACHE_DIR) -> Grid:
    """Read a grid (raises FileNotFoundError, with the command that builds it, if not ready)."""
    status = grid_status(name, cache_dir)
    if not status.ready:
        raise FileNotFoundError(status.detail)
    with np.load(grid_path(name, cache_dir), allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files if key != "__meta__"}
        meta = json.loads(str(data["__meta__"]))
    return Grid(name, meta["params"], arrays)


# -- building (imports TensorFlow; runs in its own process with the course kernel's settings) ----

@cache
def _fashion() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST from the course cache, scaled to [0, 1], as the lessons load it."""
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    return (x_train.astype("float32") / 255.0, y_train.astype("int64"),
            x_test.astype("float32") / 255.0, y_test.astype("int64"))


def _dense_model(units: int, *, dropout: float | None = None, batchnorm: bool = False):
    """Flatten -> Dense(units, relu) [-> BatchNormalization] [-> Dropout] -> Dense(10, softmax)."""
    import keras
    from keras import layers

    hidden: list[Any] = [layers.Dense(units, activation="relu")]
    if batchnorm:
        hidden.append(layers.BatchNormalization())
    if dropout is not None:
        hidden.append(layers.Dropout(dropout))
    return keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten(), *hidden,
                             layers.Dense(10, activation="softmax")])


def _dataset(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool):
    """The batches ``fit(x, y, batch_size=..., shuffle=...)`` would make, as a tf.data pipeline."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        data = data.shuffle(len(x), seed=SEED, reshuffle_each_iteration=True)
    return data.batch(batch_size)


class _Trainer:
    """One compiled model, trained many times from the same initial weights and optimizer state.

    Building, compiling and tracing a model costs more than a tiny run itself; resetting the
    weights and the optimizer's variables (and the seeds) gives exactly the run a fresh model
    would, which is what lets a 35-run grid finish in seconds.
    """

    def __init__(self, model, optimizer, steps_per_execution: int):
        import keras

        self.model = model
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], steps_per_execution=steps_per_execution)
        optimizer.build(model.trainable_variables)
        self.weights = model.get_weights()
        self.optimizer_state = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]

    def fit(self, x, y=None, *, learning_rate: float | None = None, **kwargs) -> dict[str, list[float]]:
        import keras

        self.model.set_weights(self.weights)
        for variable, value in zip(self.model.optimizer.variables, self.optimizer_state, strict=True):
            variable.assign(value)
        if learning_rate is not None:
            self.model.optimizer.learning_rate.assign(learning_rate)
        keras.utils.set_random_seed(SEED)
        if not isinstance(x, np.ndarray):
            kwargs["shuffle"] = False  # a tf.data pipeline shuffles itself; fit would only warn
        return self.model.fit(x, y, verbose=0, **kwargs).history


def _new_trainer(build_model: Callable[[], Any], optimizer: Any, *, reused: bool = True) -> _Trainer:
    """A seeded model and its trainer.

    ``steps_per_execution`` runs several steps per call into TensorFlow, which pays off for a model
    trained run after run; for a model trained once it only makes the traced graph bigger.
    """
    import keras

    keras.utils.set_random_seed(SEED)  # the same initial weights in every build
    return _Trainer(build_model(), optimizer, steps_per_execution=32 if reused else 1)


def _curves(histories: Sequence[dict[str, list[float]]], shape: tuple[int, ...]) -> Arrays:
    """Stack per-run histories into arrays of shape ``shape + (epochs,)``, one per logged name."""
    keys = sorted(histories[0])
    return {key: np.array([h[key] for h in histories], dtype="float64").reshape(*shape, -1)
            for key in keys}


OPTIMIZERS = {
    "SGD": lambda lr: _optimizer("SGD", learning_rate=lr),
    "SGD, momentum 0.9": lambda lr: _optimizer("SGD", learning_rate=lr, momentum=0.9),
    "RMSprop": lambda lr: _optimizer("RMSprop", learning_rate=lr),
    "Adam": lambda lr: _optimizer("Adam", learning_rate=lr),
}


def _optimizer(name: str, **kwargs):
    import keras

    return getattr(keras.optimizers, name)(**kwargs)


def build_optimizers(p: dict[str, Any]) -> Arrays:
    """Lesson 02: the same model trained by each optimizer at each learning rate."""
    x, y, _, _ = _fashion()
    x, y = x[: p["n_train"]], y[: p["n_train"]]
    histories = []
    for name in p["optimizers"]:
        trainer = _new_trainer(lambda: _dense_model(p["units"]), OPTIMIZERS[name](0.001))
        for lr in p["learning_rates"]:
            histories.append(trainer.fit(_dataset(x, y, p["batch_size"], shuffle=True),
                                         learning_rate=lr, epochs=p["epochs"]))
    return _curves(histories, (len(p["optimizers"]), len(p["learning_rates"])))


def build_learning_rate_batch_size(p: dict[str, Any]) -> Arrays:
    """Lesson 03: Adam at each learning rate and batch size; loss per epoch."""
    x, y, _, _ = _fashion()
    x, y = x[: p["n_train"]], y[: p["n_train"]]
    trainer = _new_trainer(lambda: _dense_model(p["units"]), OPTIMIZERS["Adam"](0.001))
    histories = [
        trainer.fit(_dataset(x, y, batch_size, shuffle=True), learning_rate=lr, epochs=p["epochs"])
        for lr in p["learning_rates"] for batch_size in p["batch_sizes"]
    ]
    arrays = _curves(histories, (len(p["learning_rates"]), len(p["batch_sizes"])))
    arrays["steps_per_epoch"] = np.array([math.ceil(p["n_train"] / b) for b in p["batch_sizes"]])
    return arrays


def build_validation_split(p: dict[str, Any]) -> Arrays:
    """Lesson 04: ``fit(..., validation_split=s)`` on a class-balanced pool, shuffled or sorted.

    The real ``validation_split`` (arrays, not tf.data: Keras rejects the argument for datasets),
    so the held-out part is exactly Keras' choice: the rows from ``floor(n * (1 - s))`` on, taken
    before any shuffling.
    """
    x_all, y_all, _, _ = _fashion()
    per_class = p["n_pool"] // 10
    # The first `per_class` images of each class, in the file's own (random) order.
    keep = np.sort(np.concatenate([np.flatnonzero(y_all == c)[:per_class] for c in range(10)]))
    x_pool, y_pool = x_all[keep], y_all[keep]
    order = np.argsort(y_pool, kind="stable")
    pools = {"shuffled": (x_pool, y_pool), "sorted by label": (x_pool[order], y_pool[order])}
    trainer = _new_trainer(lambda: _dense_model(p["units"]), OPTIMIZERS["Adam"](0.001))
    histories, train_counts, val_counts = [], [], []
    for name in p["orders"]:
        x, y = pools[name]
        for split in p["splits"]:
            histories.append(trainer.fit(x, y, epochs=p["epochs"], batch_size=p["batch_size"],
                                         validation_split=split, shuffle=True))
            split_at = int(math.floor(len(y) * (1.0 - split)))  # as keras' train_validation_split
            train_counts.append(np.bincount(y[:split_at], minlength=10))
            val_counts.append(np.bincount(y[split_at:], minlength=10))
    shape = (len(p["orders"]), len(p["splits"]))
    arrays = _curves(histories, shape)
    arrays["train_counts"] = np.array(train_counts).reshape(*shape, 10)
    arrays["val_counts"] = np.array(val_counts).reshape(*shape, 10)
    return arrays


class _ReplayModel:
    """Stands in for the model while the real EarlyStopping replays a recorded run.

    EarlyStopping reads the logs, sets ``stop_training`` and saves/restores weights; here the
    "weights" are the epoch number, so restoring them says which epoch's weights the model keeps.
    """

    def __init__(self) -> None:
        self.stop_training = False
        self.epoch = -1
        self.restored_epoch = -1

    def get_weights(self) -> int:
        return self.epoch

    def set_weights(self, weights: int) -> None:
        self.restored_epoch = weights


def replay_early_stopping(logs: dict[str, Sequence[float]], monitor: str, patience: int,
                          min_delta: float) -> tuple[int, int]:
    """Feed a recorded run to the real ``keras.callbacks.EarlyStopping``.

    Returns (epochs trained, epoch whose weights ``restore_best_weights=True`` leaves in the
    model), both counted from 1. Replaying is exact: the callback sees nothing but these logs, and
    training is deterministic, so a run that stopped early would have logged the same values up
    to its stop.
    """
    import keras

    mode = "min" if monitor.endswith("loss") else "max"  # what mode="auto" infers for these names
    stopper = keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, min_delta=min_delta,
                                            mode=mode, restore_best_weights=True)
    model = _ReplayModel()
    stopper.set_model(model)
    stopper.on_train_begin()
    epochs = len(logs[monitor])
    trained = epochs
    for epoch in range(epochs):
        model.epoch = epoch
        stopper.on_epoch_end(epoch, {key: float(values[epoch]) for key, values in logs.items()})
        if model.stop_training:
            trained = epoch + 1
            break
    stopper.on_train_end()
    return trained, model.restored_epoch + 1


def build_early_stopping(p: dict[str, Any]) -> Arrays:
    """Lesson 05: one long overfitting run, and where EarlyStopping would stop it, for each setting."""
    x, y, _, _ = _fashion()
    x_train, y_train = x[: p["n_train"]], y[: p["n_train"]]
    x_val, y_val = x[-p["n_val"]:], y[-p["n_val"]:]
    trainer = _new_trainer(lambda: _dense_model(p["units"]), OPTIMIZERS["Adam"](0.001))
    logs = trainer.fit(_dataset(x_train, y_train, p["batch_size"], shuffle=True),
                       validation_data=_dataset(x_val, y_val, len(x_val), shuffle=False),
                       epochs=p["epochs"])
    arrays = _curves([logs], ())
    shape = (len(p["monitors"]), len(p["patiences"]), len(p["min_deltas"]))
    trained, restored = np.zeros(shape, dtype="int64"), np.zeros(shape, dtype="int64")
    for i, monitor in enumerate(p["monitors"]):
        for j, patience in enumerate(p["patiences"]):
            for k, min_delta in enumerate(p["min_deltas"]):
                trained[i, j, k], restored[i, j, k] = replay_early_stopping(
                    logs, monitor, patience, min_delta)
    arrays["epochs_trained"], arrays["restored_epoch"] = trained, restored
    return arrays


def build_dropout_batchnorm(p: dict[str, Any]) -> Arrays:
    """Lesson 06: train and validation curves for each dropout rate, with and without BatchNorm.

    A fresh model per run: the dropout rate and the layer stack are part of the architecture.
    """
    x, y, x_test, y_test = _fashion()
    x_train, y_train = x[: p["n_train"]], y[: p["n_train"]]
    validation = _dataset(x_test[: p["n_val"]], y_test[: p["n_val"]], p["n_val"], shuffle=False)
    histories = []
    for rate in p["dropout_rates"]:
        for batchnorm in p["batchnorm"]:
            trainer = _new_trainer(
                lambda rate=rate, batchnorm=batchnorm: _dense_model(p["units"], dropout=rate,
                                                                    batchnorm=batchnorm),
                OPTIMIZERS["Adam"](p["learning_rate"]), reused=False)
            histories.append(trainer.fit(_dataset(x_train, y_train, p["batch_size"], shuffle=True),
                                         validation_data=validation, epochs=p["epochs"]))
    return _curves(histories, (len(p["dropout_rates"]), len(p["batchnorm"])))


GRIDS: dict[str, GridSpec] = {
    spec.name: spec
    for spec in [
        GridSpec("optimizers", "02-compile-choices", {
            "n_train": 600, "units": 32, "batch_size": 32, "epochs": 8,
            "optimizers": list(OPTIMIZERS), "learning_rates": [0.0001, 0.001, 0.01, 0.1, 1.0],
        }, build_optimizers, cost_s=14),
        GridSpec("learning_rate_batch_size", "03-training-with-fit", {
            "n_train": 600, "units": 32, "epochs": 8,
            "learning_rates": [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1],
            "batch_sizes": [32, 64, 128, 256, 512],
        }, build_learning_rate_batch_size, cost_s=20),
        GridSpec("validation_split", "04-validation-and-evaluation", {
            "n_pool": 600, "units": 32, "batch_size": 32, "epochs": 4,
            "orders": ["shuffled", "sorted by label"], "splits": [0.1, 0.2, 0.3, 0.4, 0.5],
        }, build_validation_split, cost_s=14),
        GridSpec("early_stopping", "05-overfitting-and-early-stopping", {
            "n_train": 500, "n_val": 1000, "units": 256, "batch_size": 32, "epochs": 30,
            "monitors": ["val_loss", "val_accuracy"], "patiences": list(range(11)),
            "min_deltas": [0.0, 0.001, 0.003, 0.01, 0.03, 0.1],
        }, build_early_stopping, cost_s=5),
        GridSpec("dropout_batchnorm", "06-normalization-and-dropout", {
            "n_train": 500, "n_val": 500, "units": 128, "batch_size": 50, "epochs": 20,
            "learning_rate": 0.003, "dropout_rates": [0.0, 0.2, 0.5, 0.8], "batchnorm": [False, True],
        }, build_dropout_batchnorm, cost_s=28),
    ]
}


def _write(spec: GridSpec, arrays: Arrays, cache_dir: Path) -> Path:
    """Write atomically (a half-written file must never look like a finished grid)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    meta = {"fingerprint": fingerprint(spec), "lesson": spec.lesson, "params": spec.params}
    path = grid_path(spec.name, cache_dir)
    with tempfile.NamedTemporaryFile(dir=cache_dir, suffix=".npz.part", delete=False) as tmp:
        np.savez(tmp, __meta__=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp.name, 0o666 & ~umask)  # readable like any other file (temp files are 0600)
    os.replace(tmp.name, path)
    return path


def build(names: Sequence[str], cache_dir: Path = CACHE_DIR, *, force: bool = False,
          log: Callable[[str], None] = print) -> None:
    """Build the named grids in this process (call it before anything imports TensorFlow)."""
    apply_kernel_env(os.environ)  # one thread, quiet logs: the kernel's settings, set before TF starts
    import keras

    configure_tensorflow()  # the lessons' settings: the same runs as a notebook would train
    keras.utils.set_random_seed(SEED)
    for name in names:
        if not force and grid_status(name, cache_dir).ready:
            continue
        start, cpu = time.perf_counter(), time.process_time()
        spec = GRIDS[name]
        path = _write(spec, spec.build(spec.params), cache_dir)
        log(f"built {name} ({spec.lesson}) in {time.perf_counter() - start:.1f} s "
            f"({time.process_time() - cpu:.1f} s CPU): {path}")


def build_in_subprocess(names: Sequence[str], cache_dir: Path = CACHE_DIR) -> subprocess.Popen:
    """Start building grids in a fresh Python with the course kernel's environment.

    A fresh process makes the numbers independent of whatever ran before (a notebook's seeds and
    threads, TFDS preparing data in the set-up step) and leaves the caller's state untouched.
    """
    env = dict(os.environ)
    apply_kernel_env(env)
    cmd = [sys.executable, "-m", "kerascourse.explorer_grids", "--out", str(cache_dir), *names]
    return subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def share_out(names: Sequence[str], workers: int) -> list[list[str]]:
    """Split grids over workers, biggest first onto the least loaded (each worker: one process)."""
    loads: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(max(1, workers))]
    for name in sorted(names, key=lambda n: -GRIDS[n].cost_s):
        i = min(range(len(loads)), key=lambda k: loads[k][0])
        loads[i] = (loads[i][0] + GRIDS[name].cost_s, [*loads[i][1], name])
    return [group for _, group in loads if group]


def build_parallel(names: Sequence[str], cache_dir: Path = CACHE_DIR, *,
                   workers: int | None = None, timeout_s: float = 600) -> tuple[bool, str]:
    """Build grids in up to one process per core (each uses one thread, as the kernels do).

    Every grid seeds itself, so which process builds it does not change its numbers. Returns
    (all succeeded, the processes' output).
    """
    workers = workers or min(2, os.cpu_count() or 1)
    procs = [build_in_subprocess(group, cache_dir) for group in share_out(names, workers)]
    outputs, ok = [], True
    for proc in procs:
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            out += f"\n(stopped after {timeout_s:.0f} s)"
        ok = ok and proc.returncode == 0
        outputs.append(out)
    return ok, "\n".join(outputs)


def prepare(cache_dir: Path = CACHE_DIR) -> DataStatus:
    """The set-up step: build every missing or stale grid, report one status line."""
    label = "explorer runs"
    stale = [name for name in GRIDS if not grid_status(name, cache_dir).ready]
    if not stale:
        return DataStatus(label, True, f"{len(GRIDS)} grids ready in {cache_dir}")
    fashion = keras_fashion_mnist_status()
    if not fashion.ready:
        return DataStatus(label, False, "they are trained on Fashion-MNIST. " + fashion.detail)
    start = time.perf_counter()
    ok, output = build_parallel(stale, cache_dir)
    seconds = time.perf_counter() - start
    missing = [name for name in GRIDS if not grid_status(name, cache_dir).ready]
    if not ok or missing:
        return DataStatus(label, False, f"building {missing} failed:\n{output.strip()[-2000:]}")
    note = (" (the committed ones were missing or built by other code or versions)"
            if cache_dir == CACHE_DIR else "")
    return DataStatus(label, True, f"built {len(stale)} of {len(GRIDS)} grids in {seconds:.0f} s "
                                   f"into {cache_dir}{note}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kerascourse.explorer_grids",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"grids to build (default: all): {', '.join(GRIDS)}")
    parser.add_argument("--out", type=Path, default=CACHE_DIR, help="cache folder (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(GRIDS))
    if unknown:
        parser.error(f"unknown grids {unknown}; choose from {', '.join(GRIDS)}")
    start = time.perf_counter()
    build(args.names or list(GRIDS), args.out, force=args.force)
    print(f"explorer grids ready in {args.out} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
