# The course's commands. The two a newcomer needs:
#   make lab    set everything up, then open JupyterLab on the student notebooks
#   make test   set everything up, then run the whole test suite (what CI runs)
# Both are fast when nothing changed: the environment is rebuilt only when the pins change.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Workers for the test suite: one more than the cores. Each notebook kernel uses one core, but the
# browser, hub and server tests spend much of their time waiting on other processes, and a worker
# that waits leaves its core idle: with one worker per core the two cores of a small machine were
# idle 20% of the run, with one more 1% (measured: 18 min 37 s -> 16 min 11 s). loadscope keeps
# each notebook's cells (one kernel) and each test module or class on one worker, so the lessons'
# grading classes spread over the workers; the scopes go out longest first, in the order
# tests/conftest.py gives them (--no-loadscope-reorder keeps it), so the workers finish together.
JOBS   ?= $(shell echo $$(( $$(nproc) + 1 )))
# The installer: uv installs the lock's 190 packages in about 20 s where pip took 45-90 s (it
# unpacks wheels in parallel, from its cache at ~/.cache/uv when it has them); --compile-bytecode
# writes the .pyc files up front as pip does, so the first kernels do not each compile TensorFlow.
# uv reads no pip.conf: behind a package mirror set UV_INDEX_URL, or it falls back to pip.
UV_VERSION := 0.13.9
UV_INSTALL := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

.PHONY: help lab instructor test test-perturbed test-full setup data notebooks refresh check lint lock clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

lab: setup  ## open JupyterLab on the student notebooks (students start here)
	$(BIN)/python -m kerascourse.lab

instructor: setup  ## open JupyterLab for instructors (formgrader, create assignment)
	$(BIN)/python -m kerascourse.lab --instructor

.PHONY: hub
hub: setup  ## run JupyterHub for a class here (root): demo accounts, nbgrader exchange, proxy
	$(BIN)/python -m hub demo $(HUB_ARGS)

# `make test` prints its wall time (set-up included) and the ten slowest tests.
test: STARTED := $(shell date +%s)
test: setup  ## run every test: notebooks, grading round trips, mistake banks, browser, lint
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope --no-loadscope-reorder --durations=10 --nbval tests solutions
	@echo "make test: $$(( $$(date +%s) - $(STARTED) )) s of wall time, set-up included"

# Every typical mistake and correct variant through the real autograde, round by round (make test
# judges them with grader mistakes and sends one round through autograde). CI runs it weekly.
test-full: setup  ## every bank entry through the real grader autograde (slow: CI runs it weekly)
	GRADER_FULL_ROUNDS=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadscope --no-loadscope-reorder --durations=10 \
	  tests/test_grading.py -k TestLesson

# The nbval comparison again, with float arithmetic perturbed in every kernel (two intra-op threads,
# TensorFlow's oneDNN kernels on: tests/nbval_tolerance.py): outputs must hold within the tolerance,
# as on another CPU. The named test proves the kernels got the perturbation. LESSON=NN-slug for one.
test-perturbed: setup  ## nbval on solutions/ with float arithmetic perturbed (what another CPU does)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope --no-loadscope-reorder --nbval --nbval-perturbed \
	  $(if $(LESSON),solutions/$(LESSON),solutions) \
	  tests/test_nbval_setup.py::test_perturbed_kernels_really_get_the_perturbation

setup: $(STAMP) data  ## create .venv with the pinned packages, and the data caches

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
	  || { echo "Python 3.11 is required (found: $(PYTHON)); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV_INSTALL) -r requirements.txt && $(UV_INSTALL) --no-deps -e . \
	  || { echo "uv could not install (above): installing with pip instead"; \
	       $(BIN)/python -m pip install --quiet -r requirements.txt \
	       && $(BIN)/python -m pip install --quiet --no-deps -e .; }
	touch $@

data: $(STAMP)  ## fill the data caches (offline from Debian's packages) and install the kernel
	@scripts/system-packages.sh dataset-fashion-mnist bubblewrap chromium
	@$(BIN)/python -m kerascourse

notebooks: $(STAMP)  ## regenerate notebooks/ from solutions/ (never edit notebooks/ by hand)
	$(BIN)/grader release

refresh: $(STAMP)  ## re-run solution notebooks in place (reference outputs), then regenerate
	$(BIN)/grader refresh $(LESSON)

check: $(STAMP)  ## check the lessons against the authoring conventions
	$(BIN)/grader check

lint: $(STAMP)  ## ruff on code and solution notebooks
	$(BIN)/ruff check .

lock:  ## re-resolve requirements.txt from requirements.in in a scratch venv
	rm -rf /tmp/keras-course-lock && $(PYTHON) -m venv /tmp/keras-course-lock
	/tmp/keras-course-lock/bin/pip install --quiet -r requirements.in
	{ echo "# Full lock of requirements.in, made by 'make lock' (pip freeze in a fresh venv). Do not edit by hand."; \
	  /tmp/keras-course-lock/bin/pip freeze --all --exclude pip --exclude setuptools; } > requirements.txt

clean:  ## remove the environment and the data caches (not the committed files)
	rm -rf $(VENV) data/keras
