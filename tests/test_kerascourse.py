"""The shared helper module: environment, data caches, kernel spec, set-up cell and plots."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import matplotlib
import pytest

matplotlib.use("Agg")

from kerascourse import datasets, kernel, paths, plots  # noqa: E402


def test_kernel_env_points_at_the_course_caches():
    env = paths.kernel_env()
    assert env["KERAS_HOME"] == str(paths.DATA_DIR / "keras")
    assert env["TFDS_DATA_DIR"] == str(paths.DATA_DIR / "tensorflow_datasets")
    assert env["TF_NUM_INTRAOP_THREADS"] == env["TF_NUM_INTEROP_THREADS"] == "1"


def test_explicit_settings_win_over_course_defaults():
    environ = {"KERAS_HOME": "/somewhere/else"}
    paths.apply_kernel_env(environ)
    assert environ["KERAS_HOME"] == "/somewhere/else"
    assert environ["TFDS_DATA_DIR"] == str(paths.TFDS_DATA_DIR)


def _fake_debian_files(folder):
    folder.mkdir()
    for name in datasets.FASHION_MNIST_FILES:
        (folder / name).write_bytes(b"idx")
    return folder


def test_fashion_mnist_is_linked_from_debians_files(tmp_path):
    source = _fake_debian_files(tmp_path / "debian")
    status = datasets.link_fashion_mnist(tmp_path / "keras", source)
    assert status.ready, status.detail
    cache = datasets.fashion_mnist_cache(tmp_path / "keras")
    assert all((cache / n).resolve() == source / n for n in datasets.FASHION_MNIST_FILES)
    assert datasets.link_fashion_mnist(tmp_path / "keras", source).ready  # idempotent


def test_dangling_links_are_replaced(tmp_path):
    cache = datasets.fashion_mnist_cache(tmp_path / "keras")
    cache.mkdir(parents=True)
    (cache / datasets.FASHION_MNIST_FILES[0]).symlink_to(tmp_path / "gone")
    source = _fake_debian_files(tmp_path / "debian")
    assert datasets.link_fashion_mnist(tmp_path / "keras", source).ready


def test_missing_data_says_how_to_get_it(tmp_path):
    status = datasets.link_fashion_mnist(tmp_path / "keras", tmp_path / "no-such-package")
    assert not status.ready
    assert "apt-get install dataset-fashion-mnist" in status.detail
    assert "make data" in status.detail


def test_kernelspec_carries_the_course_env(tmp_path):
    path = kernel.install(tmp_path)
    spec = json.loads(path.read_text())
    assert spec["env"] == paths.kernel_env()
    assert spec["argv"][0] == sys.executable
    before = path.stat().st_mtime_ns
    kernel.install(tmp_path)
    assert path.stat().st_mtime_ns == before, "re-installing an unchanged spec should not rewrite it"


def test_installing_the_kernel_leaves_a_hard_linked_copy_alone(tmp_path):
    """uv hard-links ipykernel's kernel.json from its cache into every environment it makes."""
    cached = tmp_path / "uv-cache-kernel.json"
    cached.write_text('{"argv": ["python"]}')
    target = tmp_path / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    target.parent.mkdir(parents=True)
    os.link(cached, target)
    kernel.install(tmp_path)
    assert cached.read_text() == '{"argv": ["python"]}', "the install wrote through a hard link"
    assert json.loads(target.read_text())["env"] == paths.kernel_env()
    assert sorted(p.name for p in target.parent.iterdir()) == ["kernel.json"]


def test_setup_notebook_warns_when_data_is_missing(tmp_path):
    code = "from kerascourse import setup_notebook; setup_notebook()"
    env = {"PATH": "/usr/bin:/bin", "KERAS_HOME": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "seed 42" in proc.stdout and "CPU threads: 1" in proc.stdout
    assert "Fashion-MNIST is not in the course's data cache" in proc.stderr


def test_show_images_marks_wrong_predictions_in_red(monkeypatch):
    import numpy as np

    monkeypatch.setattr(plots.plt, "show", lambda: None)
    images = np.zeros((3, 28, 28))
    plots.show_images(images, [0, 1, 2], datasets.FASHION_MNIST_CLASSES, predictions=[0, 1, 5])
    titles = [ax.title for ax in plots.plt.gcf().axes[:3]]
    assert [t.get_text() for t in titles] == [
        "T-shirt/top\n-> T-shirt/top", "Trouser\n-> Trouser", "Pullover\n-> Sandal"]
    assert titles[2].get_color() == "red" and titles[0].get_color() == "black"
    plots.plt.close("all")


def test_plot_history_names_a_missing_metric(monkeypatch):
    monkeypatch.setattr(plots.plt, "show", lambda: None)
    with pytest.raises(KeyError, match="'accuracy' is not in the history"):
        plots.plot_history({"loss": [1.0, 0.5]}, ["loss", "accuracy"])
    plots.plt.close("all")


def test_the_grader_starts_without_the_plotting_helpers():
    """Every submission's nbgrader process imports ``kerascourse.paths``; the package loads its
    helpers (matplotlib) only when a name is asked for: about half a second per submission."""
    script = (
        "import sys\n"
        "import grader.preprocessors, grader.run_nbgrader, grader.sandbox\n"
        "assert 'matplotlib' not in sys.modules, 'the grader imported matplotlib'\n"
        "import kerascourse\n"
        "assert callable(kerascourse.setup_notebook) and callable(kerascourse.show_images)\n"
        "assert 'show_images' in dir(kerascourse)\n"
        "try:\n"
        "    kerascourse.no_such_helper\n"
        "except AttributeError as err:\n"
        "    assert 'no_such_helper' in str(err)\n"
        "else:\n"
        "    raise AssertionError('an unknown name should raise AttributeError')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
