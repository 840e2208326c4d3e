"""The interactive explorers (kerascourse/explorers.py) and the runs behind them (explorer_grids.py).

- every grid in ``data/explorers/`` is current (built from this code and these versions) and
  complete: one run for every setting an explorer offers, finite numbers; and the committed grids
  are the ones in use (the set-up rebuilt none);
- EarlyStopping's replay agrees with Keras 3's documented rule on every setting;
- every explorer draws a labelled figure for every value of every control, and a move redraws;
- what a notebook records is stable (nbval compares the real numbers, skips the widget ids) and
  small enough for the grader's output cap; an explorer cell passes nbval end to end;
- a missing or stale cache is never trusted: the explorer says how to build it, or builds it on
  the fly, and that build (a fresh process, one grid) gives the committed numbers.
"""

from __future__ import annotations

import base64
import configparser
import json
import math
import re
import shutil
import subprocess
import sys

import matplotlib
import nbformat
import numpy as np
import pytest

matplotlib.use("Agg")

from kerascourse import explorer_grids as grids  # noqa: E402
from kerascourse import explorers  # noqa: E402
from kerascourse.paths import REPO_ROOT  # noqa: E402

OUTPUT_CAP = 100_000  # grader/limits.py: characters per output the grader keeps
SHAPES = {  # what each grid must hold, from its own parameters
    "optimizers": lambda p: {"loss": (len(p["optimizers"]), len(p["learning_rates"]), p["epochs"])},
    "learning_rate_batch_size": lambda p: {
        "loss": (len(p["learning_rates"]), len(p["batch_sizes"]), p["epochs"]),
        "steps_per_epoch": (len(p["batch_sizes"]),)},
    "validation_split": lambda p: {
        "val_accuracy": (len(p["orders"]), len(p["splits"]), p["epochs"]),
        "val_counts": (len(p["orders"]), len(p["splits"]), 10)},
    "early_stopping": lambda p: {
        "val_loss": (p["epochs"],),
        "epochs_trained": (len(p["monitors"]), len(p["patiences"]), len(p["min_deltas"]))},
    "dropout_batchnorm": lambda p: {
        "val_loss": (len(p["dropout_rates"]), len(p["batchnorm"]), p["epochs"])},
}


@pytest.fixture(autouse=True)
def no_fallback_cache(tmp_path, monkeypatch):
    """A grid some earlier notebook built in the scratch fallback folder must not mask a test."""
    monkeypatch.setattr(grids, "FALLBACK_DIR", tmp_path / "fallback")


def _cached(name: str) -> grids.Grid:
    status = grids.grid_status(name)
    assert status.ready, f"{status.detail}\n(run `make data` before the tests)"
    return grids.load_grid(name)


@pytest.mark.parametrize("name", list(grids.GRIDS))
def test_every_grid_is_current_and_complete(name):
    grid = _cached(name)
    assert set(SHAPES) == set(grids.GRIDS), "add the new grid's shapes to SHAPES"
    for key, shape in SHAPES[name](grid.params).items():
        assert grid[key].shape == shape, (key, grid[key].shape, shape)
    for key, values in grid.arrays.items():
        assert np.all(np.isfinite(values)), f"{name}: {key} holds NaN or inf"
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if key in grid.arrays:
            assert grid[key].min() >= 0, key


def test_validation_split_holds_out_the_last_rows():
    grid = _cached("validation_split")
    p = grid.params
    counts = grid["train_counts"] + grid["val_counts"]
    assert np.all(counts == p["n_pool"] // 10), "the pool is 1/10 of each class"
    for j, split in enumerate(p["splits"]):
        held = p["n_pool"] - math.floor(p["n_pool"] * (1 - split))  # as Keras splits
        assert grid["val_counts"][:, j].sum(axis=1).tolist() == [held, held], split
    sorted_row = p["orders"].index("sorted by label")
    assert np.all(grid["val_accuracy"][sorted_row] == 0), "sorted rows: unseen classes, 0 accuracy"
    assert np.all(grid["val_accuracy"][1 - sorted_row, :, -1] > 0.5)


def _keras3_early_stopping(values, mode: str, patience: int, min_delta: float) -> tuple[int, int]:
    """Keras 3.15's EarlyStopping.on_epoch_end, written out: an improvement must beat the best by
    more than min_delta, and wait counts up before the patience check."""
    better = (lambda a, b: a + min_delta < b) if mode == "min" else (lambda a, b: a - min_delta > b)
    best, best_epoch, wait = None, 0, 0
    for epoch, value in enumerate(values):
        wait += 1
        if best is None or better(value, best):
            best, best_epoch, wait = value, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return epoch + 1, best_epoch + 1
    return len(values), best_epoch + 1


def test_early_stopping_replay_follows_keras_rules():
    grid = _cached("early_stopping")
    p = grid.params
    for i, monitor in enumerate(p["monitors"]):
        mode = "min" if monitor.endswith("loss") else "max"
        for j, patience in enumerate(p["patiences"]):
            for k, delta in enumerate(p["min_deltas"]):
                expected = _keras3_early_stopping(grid[monitor], mode, patience, delta)
                got = (grid["epochs_trained"][i, j, k], grid["restored_epoch"][i, j, k])
                assert got == expected, (monitor, patience, delta, got, expected)
    trained = grid["epochs_trained"][0, :, 0]
    assert trained[0] == trained[1], "in Keras 3, patience=0 stops where patience=1 does"
    assert np.all(np.diff(trained) >= 0), "more patience never stops earlier"
    assert trained[-1] > trained[1], "the run must overfit late enough for patience to matter"


def _values(control) -> list:
    options = getattr(control, "options", None)
    if options is None:
        return [False, True]
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    return values if len(values) <= 8 else [values[0], control.value, values[-1]]


@pytest.fixture(scope="module")
def opened() -> dict[str, explorers.Explorer]:
    return {name: make() for name, make in explorers.EXPLORERS.items()}


@pytest.mark.parametrize("name", list(explorers.EXPLORERS))
def test_every_control_value_draws_a_labelled_figure(name, opened):
    explorer = opened[name]
    assert explorer.png.startswith(b"\x89PNG"), "the default figure was not drawn"
    defaults = explorer.values
    for control_name, control in explorer.controls.items():
        summaries = set()
        for value in _values(control):
            figure, summary = explorer._draw(**{**defaults, control_name: value})
            summaries.add(summary)
            for ax in figure.axes:
                assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), (name, control_name)
            assert any(ax.get_legend() for ax in figure.axes), (name, control_name, "no legend")
        if control_name != "x_axis":  # the axis switch changes the figure, not the numbers
            assert len(summaries) > 1, f"{name}: moving {control_name} changes nothing"


def test_a_move_redraws_the_figure_and_caption(opened):
    explorer = opened["validation_split"]
    before_png, before_caption = explorer.png, explorer.caption.value
    explorer.set(order="shuffled")
    assert explorer.png != before_png and explorer.image.value == explorer.png
    assert explorer.caption.value != before_caption and "could not draw" not in explorer.caption.value
    assert "shuffled" in explorer.summary
    explorer.set(order="sorted by label")
    assert explorer.png == before_png, "a setting seen before must show its figure again"
    figure, _ = explorer._draw(**explorer.values)
    assert explorers._png(figure) == before_png, "drawing a setting anew must give the same image"


def _sanitizers() -> list[tuple[str, str]]:
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO_ROOT / "tests" / "nbval_sanitize.cfg")
    return [(config[s]["regex"], config[s]["replace"]) for s in config.sections()]


@pytest.mark.parametrize("name", list(explorers.EXPLORERS))
def test_recorded_output_is_stable_and_small(name, opened):
    explorer = opened[name]
    bundle = explorer._repr_mimebundle_()
    text = bundle["text/plain"]
    assert explorer.summary in text and explorer._draw(**explorer.values)[1] == explorer.summary, (
        "the text nbval compares must not change between runs")
    assert re.search(r"\d\.\d{3}", text) or name == "scaler", "the text should carry the numbers"
    assert [(rx, rep) for rx, rep in _sanitizers() if re.search(rx, text)] == [], (
        "an nbval sanitizer would hide part of the explorer's numbers")
    view = bundle["application/vnd.jupyter.widget-view+json"]  # random model id: nbval skips it
    assert view["model_id"] == explorer.widget.model_id and view["model_id"] not in text
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    size = sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in bundle.values())
    assert size < OUTPUT_CAP * 0.8, f"{size} characters: the grader would cut this output"


def test_missing_cache_says_how_to_build(tmp_path, capsys):
    explorers.optimizer_explorer(cache_dir=tmp_path / "empty", build_if_missing=False)
    out = capsys.readouterr().out
    assert "not available" in out and "make data" in out and "python -m kerascourse" in out, out


def test_missing_data_is_reported_not_raised(tmp_path, monkeypatch, capsys):
    from kerascourse.datasets import DataStatus

    monkeypatch.setattr(explorers, "keras_fashion_mnist_status",
                        lambda: DataStatus("fashion_mnist", False, "no Fashion-MNIST"))
    explorers.early_stopping_explorer(cache_dir=tmp_path)
    assert "make data" in capsys.readouterr().out


def test_a_failed_build_or_a_broken_explorer_is_reported_not_raised(tmp_path, monkeypatch, capsys):
    def no_process(*args, **kwargs):
        raise FileNotFoundError("no course folder here")

    monkeypatch.setattr(grids, "build_in_subprocess", no_process)
    explorers.validation_split_explorer(cache_dir=tmp_path)
    out = capsys.readouterr().out
    assert "not available" in out and "no course folder here" in out, out
    explorers._show(lambda: 1 / 0)
    assert "could not start: ZeroDivisionError" in capsys.readouterr().out


def test_stale_or_corrupt_files_are_not_trusted(tmp_path):
    (tmp_path / "optimizers.npz").write_bytes(b"not a zip")
    assert not grids.grid_status("optimizers", tmp_path).ready
    np.savez(tmp_path / "early_stopping.npz", __meta__=np.array(json.dumps({"fingerprint": "old"})))
    status = grids.grid_status("early_stopping", tmp_path)
    assert not status.ready and "built by other code" in status.detail


def test_work_is_shared_over_the_cores():
    groups = grids.share_out(list(grids.GRIDS), 2)
    assert sorted(sum(groups, [])) == sorted(grids.GRIDS) and len(groups) == 2
    loads = [sum(grids.GRIDS[n].cost_s for n in g) for g in groups]
    assert max(loads) - min(loads) <= max(s.cost_s for s in grids.GRIDS.values())
    assert grids.share_out(["optimizers"], 2) == [["optimizers"]]


def test_a_missing_grid_is_built_on_the_fly_with_the_same_numbers(tmp_path, capsys):
    """A fresh process building one grid alone gives the committed grid's runs: the numbers depend
    on nothing but the grid's own settings, not on what else a process built before it.

    The same, not identical: the committed grid may come from another CPU, where a run's last
    digits differ. This grid's runs are stable: with oneDNN's kernels and two threads instead of
    Eigen's and one, its losses moved by at most 4e-7 (relative) and nothing else moved, while
    the same grid trained from another seed differs by 0.1-0.2 in every curve. The tolerance sits
    far from both. The counts (epochs trained, restored epoch) must match exactly: the closest
    EarlyStopping decision behind them is 1.4e-4 of validation loss away from going the other
    way, and the validation accuracies (whole images out of 1,000) did not move."""
    cached = _cached("early_stopping")
    fresh = explorers.load("early_stopping", tmp_path / "cache")
    assert "Training the runs" in capsys.readouterr().out
    assert grids.grid_status("early_stopping", tmp_path / "cache").ready
    for key, values in cached.arrays.items():
        if values.dtype.kind == "f":
            assert np.allclose(fresh[key], values, rtol=1e-4, atol=1e-6), f"{key} differs between two builds"
        else:
            assert np.array_equal(fresh[key], values), f"{key} differs between two builds"


def test_the_committed_grids_are_the_ones_in_use():
    """The set-up rebuilds a missing or stale grid in place, which keeps the course working but
    costs a clone's set-up the training the commit saves. So a change to explorer_grids.py (its
    source is part of every grid's fingerprint), or to the pins, needs the rebuilt grids
    committed: ``python -m kerascourse.explorer_grids``, then commit ``data/explorers/``."""
    git = shutil.which("git")
    if git is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    changed = subprocess.run([git, "status", "--porcelain", "--", "data/explorers"], cwd=REPO_ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert changed == "", (f"the set-up rebuilt explorer grids, or they are not committed:\n{changed}"
                           "commit data/explorers/ (they were stale: built by other code or versions)")


def test_an_explorer_cell_passes_nbval(tmp_path):
    """Run a notebook with an explorer cell, keep its outputs, then let nbval re-run and compare:
    the text (with the numbers) matches, the random widget ids are skipped."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from kerascourse.explorers import validation_split_explorer\n\nvalidation_split_explorer()")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, kernel_name="python3", timeout=120, store_widget_state=False).execute()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"], outputs
    assert "validation accuracy after" in outputs[0].data["text/plain"]
    path = tmp_path / "explorer.ipynb"
    nbformat.write(nb, path)
    # from the repository root, as the course runs nbval: pyproject's options load the sanitizers
    # and the tolerance plugin (tests.nbval_tolerance)
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", str(path)]
    proc = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:]

    assert "widgets" not in nb.metadata, "nbclient was told not to store widget state"
