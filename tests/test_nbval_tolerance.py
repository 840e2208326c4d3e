"""The tolerant output comparison (tests/nbval_tolerance.py) passes float noise and nothing else.

Pure functions, no kernel: ``compare_text`` returns why a fresh text is not the committed one up to
float noise (an empty list when it is), ``align_outputs`` applies it to nbval's outputs.
"""

from __future__ import annotations

import pytest
from nbformat.v4 import new_output

from kerascourse.paths import REPO_ROOT
from tests.nbval_tolerance import (
    FLOOR_MIN_DIGITS,
    LAST_DIGIT_UNITS,
    PERTURBED_ENV,
    REL_TOL,
    align_outputs,
    compare_text,
    expect_perturbed,
    float_noise,
    numbers,
)

NBVAL_SKIPS = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
               "image/png", "image/jpeg")


@pytest.mark.parametrize(("committed", "fresh"), [
    ("test accuracy: 0.8901\n", "test accuracy: 0.8903\n"),  # issue 19: another CPU (AVX-512)
    ("loss: 0.3128, val_loss: 0.3538", "loss: 0.3131, val_loss: 0.3521"),
    ("mean weight: 0.0012", "mean weight: 0.0013"),  # near zero: one unit in the last digit
    ("accuracy: 0.89", "accuracy: 0.8901"),  # round(x, 4) drops trailing zeros
    ("val_loss: 0.29", "val_loss: 0.3"),  # round(0.2999, 2): a flipped last digit, 2 digits printed
    ("loss: -0.0", "loss: 0.0"),
    ("lr: 1.2e-05", "lr: 1.205e-05"),
    ("[0.5    1.    0.25  ]", "[0.5  1.   0.25 ]"),  # alignment padding follows the digits
    ("   loss  accuracy\n0  0.3128    0.8901", "    loss  accuracy\n0  0.31281   0.8903"),
])
def test_float_noise_passes(committed, fresh):
    assert compare_text(committed, fresh) == []


@pytest.mark.parametrize(("committed", "fresh"), [
    ("test accuracy: 0.8901", "val accuracy: 0.8901"),
    ("epochs trained: 10\n", "epochs trained: 10\nrestored best weights\n"),
    ("loss: 0.5", "loss: nan"),
    ("Keras 3.15.1", "Keras 3.16.1"),  # a version is text, not a decimal with a tolerance
    ("dtype: float32", "dtype: float64"),
    ("a\nb", "a b"),  # only spaces and tabs collapse, never line breaks
    ("[0.1, 0.2]", "[0.1, 0.2, 0.3]"),
])
def test_a_structural_change_fails(committed, fresh):
    [problem] = compare_text(committed, fresh)
    assert "differs apart from its numbers" in problem


@pytest.mark.parametrize(("committed", "fresh"), [
    ("Total params: 50,890", "Total params: 50,891"),
    ("best val_loss 0.2901 (epoch 18)", "best val_loss 0.2901 (epoch 16)"),
    ("stopped at epoch 18.", "stopped at epoch 16."),  # a full stop does not make 18 a decimal
    ("misclassified: 1097 of 10000", "misclassified: 1094 of 10000"),
    ("shape: (28, 28)", "shape: (28, 29)"),
    ("batches: 1,000", "batches: 1000"),  # integers are compared as printed
])
def test_an_integer_change_fails(committed, fresh):
    [problem] = compare_text(committed, fresh)
    assert "integers must match exactly" in problem


@pytest.mark.parametrize(("committed", "fresh"), [
    ("test accuracy: 0.87", "test accuracy: 0.89"),
    ("val_loss: 0.2907", "val_loss: 0.2981"),  # 2.5%: lesson 09 with oneDNN on, before it was fixed
    ("mean weight: 0.0", "mean weight: 0.0003"),  # near zero the last printed digit decides
    ("mean weight: 0.0", "mean weight: 0.0001"),  # ... where two significant digits are printed
    ("dropout rate: 0.1", "dropout rate: 0.2"),  # one digit printed: a changed value, not a rounding
    ("loss: 0.5", "loss: 0.4"),
    ("loss: -0.5", "loss: 0.5"),
    ("lr: 1e-05", "lr: 1e-04"),
])
def test_a_decimal_beyond_the_tolerance_fails(committed, fresh):
    [problem] = compare_text(committed, fresh)
    assert "allowed 1%" in problem


def test_an_integer_that_became_a_decimal_fails():
    [problem] = compare_text("units: 1", "units: 1.0")
    assert problem == "line 1 'units: 1': 1 -> 1.0 (an integer and a decimal)"


def test_the_message_names_the_numbers_and_their_line():
    problems = compare_text("epochs trained: 10\nval_loss per epoch: [0.3944, 0.3538, 0.2907]\n",
                            "epochs trained: 10\nval_loss per epoch: [0.3944, 0.3497, 0.2981]\n")
    assert problems == [
        "line 2 'val_loss per epoch: [0.3944, 0.3538, 0.2907]': "
        "0.3538 -> 0.3497 (differs by 0.0041 = 1.2%; allowed 1% or 0.0001), "
        "0.2907 -> 0.2981 (differs by 0.0074 = 2.5%; allowed 1% or 0.0001)"
    ]
    [structure] = compare_text("test accuracy: 0.8901", "val accuracy: 0.8901")
    assert "'test accuracy: #'" in structure and "'val accuracy: #'" in structure


def test_the_tolerance_is_the_documented_one():
    """1% relative, or one unit in the last printed digit where two significant digits are printed;
    CONTRIBUTING states them."""
    assert (REL_TOL, LAST_DIGIT_UNITS, FLOOR_MIN_DIGITS) == (1e-2, 1.0, 2)
    assert compare_text("x 100.0", "x 101.0") == [] and compare_text("x 100.0", "x 101.1") != []
    contributing = " ".join((REPO_ROOT / "CONTRIBUTING.md").read_text().split())
    assert "within 1% of the committed value, or within one unit in the last printed digit" in contributing
    assert "at least two significant digits" in contributing


def test_what_counts_as_a_number():
    found = numbers("v3.15.1 float32 conv2d loss: -0.5, lr 1e-05, 50,890 params, [1, 2] epoch 18. 0.25")
    assert [(n.text, n.is_decimal) for n in found] == [
        ("-0.5", True), ("1e-05", True), ("50,890", False), ("1", False), ("2", False),
        ("18", False), ("0.25", True)]
    assert [n.unit for n in found if n.is_decimal] == [0.1, 1e-05, 0.01]


def _outputs(stdout: str, plain: str, png: str = "iVBORw0KGgo="):
    return [new_output("stream", name="stdout", text=stdout),
            new_output("execute_result", data={"text/plain": plain, "image/png": png}, execution_count=1)]


def test_align_outputs_takes_committed_text_for_float_noise_only():
    ref = _outputs("test accuracy: 0.8901\n", "Total params: 50,890", png="AAAA")
    test = _outputs("test accuracy: 0.8903\n", "Total params: 50,891", png="BBBB")
    notes = list(align_outputs(test, ref, NBVAL_SKIPS))
    assert test[0].text == "test accuracy: 0.8901\n"  # nbval now sees the committed text
    assert test[1].data["text/plain"] == "Total params: 50,891"  # left for nbval to report
    assert test[1].data["image/png"] == "BBBB"  # nbval skips images: so does the tolerance
    assert notes == ["text/plain: line 1 'Total params: 50,890': 50,890 -> 50,891 "
                     "(integers must match exactly)"]


def test_the_accepted_noise_is_recorded():
    """make test-perturbed lists the numbers that passed only within the tolerance."""
    ref = _outputs("test accuracy: 0.8901 | loss: 0.3128\n", "0.5")
    test = _outputs("test accuracy: 0.8903 | loss: 0.3128\n", "0.5")
    accepted = []
    assert list(align_outputs(test, ref, NBVAL_SKIPS, accepted=accepted)) == []
    assert accepted == float_noise("0.8901 0.3128", "0.8903 0.3128")
    assert accepted == [("0.8901", "0.8903", pytest.approx(2e-4 / 0.8903))]


def test_align_outputs_compares_sanitized_texts():
    def sanitize(s):
        return s.replace("35ms/step", "T/step").replace("7ms/step", "T/step")

    ref = _outputs("10/10 - 35ms/step - loss: 0.5012\n", "")
    test = _outputs("10/10 - 7ms/step - loss: 0.5013\n", "")
    assert list(align_outputs(test, ref, NBVAL_SKIPS, sanitize)) == []
    assert test[0].text == ref[0].text


def test_the_perturbed_run_expects_the_perturbed_thread_count():
    """The set-up line is not sanitized: a perturbed run expects 2 threads where 1 is committed, and a
    normal run still fails on a thread count that changed."""
    line = "Keras 3.15.1 | TensorFlow 2.21.0 | seed 42 | CPU threads: {} | deterministic ops: on\n"
    assert PERTURBED_ENV["TF_NUM_INTRAOP_THREADS"] == "2"
    assert expect_perturbed(line.format(1)) == line.format(2)
    assert expect_perturbed(line.format(12)) == line.format(12)  # a lesson that pins its own count
    assert expect_perturbed("CPU threads: 1, seed 1\n") == "CPU threads: 1, seed 1\n"  # only that line

    ref, test = _outputs(line.format(1), ""), _outputs(line.format(2), "")
    assert list(align_outputs(test, ref, NBVAL_SKIPS, perturbed=True)) == []
    ref, test = _outputs(line.format(1), ""), _outputs(line.format(1), "")
    assert len(list(align_outputs(test, ref, NBVAL_SKIPS, perturbed=True))) == 1  # not perturbed: fails
    ref, test = _outputs(line.format(1), ""), _outputs(line.format(2), "")
    [note] = align_outputs(test, ref, NBVAL_SKIPS)
    assert "1 -> 2 (integers must match exactly)" in note
