"""``python -m kerascourse.lab``: open JupyterLab for the course (``make lab``).

Students get the student notebooks (``notebooks/``); ``--instructor`` opens the repository root
for authoring and grading. Extra arguments go to ``jupyter lab`` (e.g. ``--no-browser``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kerascourse.paths import REPO_ROOT, apply_kernel_env


def lab_command(instructor: bool, extra: Sequence[str]) -> list[str]:
    root = REPO_ROOT if instructor else REPO_ROOT / "notebooks"
    return [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}", *extra]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kerascourse.lab", description=__doc__)
    parser.add_argument("--instructor", action="store_true", help="open the instructor view")
    args, extra = parser.parse_known_args(argv)
    apply_kernel_env(os.environ)
    cmd = lab_command(args.instructor, extra)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
