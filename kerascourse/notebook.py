"""The locked set-up cell every lesson runs first."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from kerascourse.datasets import keras_fashion_mnist_status
from kerascourse.paths import apply_kernel_env

DEFAULT_SEED = 42


def configure_tensorflow() -> None:
    """The course's TensorFlow settings, for a lesson's kernel and for the explorers' runs alike.

    - Deterministic ops: with one thread, every run of a lesson prints the same numbers.
    - Grappler, TensorFlow's graph optimizer, off. It rewrites every function Keras traces (one
      per new model) and every tf.data pipeline Keras makes (two per epoch, training and
      validation). For the course's small models that costs more than it saves: a 30-epoch fit of
      lesson 05's wide model takes 20% less CPU without it, an epoch of the capstone's 58,000
      images 15% less, and the results agree but for the last digits (lesson 09's test accuracy
      moved from 0.8830 to 0.8825, inside the notebook tests' 1% tolerance). A model far larger
      than the course's may gain from it again: after ``setup_notebook()``,
      ``tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": False})``.
    """
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


def setup_notebook(seed: int = DEFAULT_SEED, *, quiet: bool = False) -> None:
    """Make a lesson reproducible and point Keras at the course's data.

    Call it before importing TensorFlow (the lesson's set-up cell does): the thread settings only
    take effect if they are in the environment when TensorFlow starts its runtime. It then seeds
    Python, NumPy and TensorFlow and turns on deterministic ops, so every run of a lesson prints
    the same numbers, and warns (without failing) if a data set the lessons need is missing.
    """
    apply_kernel_env(os.environ)

    import keras
    import tensorflow as tf

    threads = int(os.environ["TF_NUM_INTRAOP_THREADS"])
    try:  # the environment variables cover a fresh kernel; this covers one that imported TF first
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(int(os.environ["TF_NUM_INTEROP_THREADS"]))
    except RuntimeError:
        pass  # the runtime already started (the set-up cell was run again): settings stand
    keras.utils.set_random_seed(seed)
    configure_tensorflow()

    fashion = keras_fashion_mnist_status(Path(os.environ["KERAS_HOME"]))  # where Keras will look
    if not fashion.ready:
        warnings.warn(fashion.detail, stacklevel=2)
    if not quiet:
        print(
            f"Keras {keras.__version__} | TensorFlow {tf.__version__} | seed {seed} | "
            f"CPU threads: {threads} | deterministic ops: on"
        )
