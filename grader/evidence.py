"""What a graded run found, as one typed record that the grader's readers share.

:class:`grader.preprocessors.GuardedExecute` writes it (in nbgrader's process, outside the
sandbox) to the job's ``evidence.json``; the merge, the status line and the feedback read it.
A finding is a test cell, a kind, and a message for the instructor; the kind decides what it
costs: ``TAMPERING`` scores the exercise 0 and marks the submission ``tampering suspected``;
``HIDDEN_CHECK`` (a verdict that did not hold) and ``INCOMPLETE`` score the exercise 0;
``NOTE`` costs nothing.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


class Kind(enum.Enum):
    TAMPERING = "tampering"
    HIDDEN_CHECK = "hidden check failed"
    INCOMPLETE = "incomplete"
    NOTE = "note"

    @property
    def scores_zero(self) -> bool:
        return self is not Kind.NOTE


@dataclass(frozen=True)
class Finding:
    cell: str
    kind: Kind
    message: str

    @property
    def note(self) -> str:
        """The instructor's note, e.g. ``ex2-tests: hidden check failed: params[1]: ...``."""
        prefix = "" if self.kind in (Kind.TAMPERING, Kind.NOTE) else f"{self.kind.value}: "
        return f"{self.cell}: {prefix}{self.message}"


@dataclass
class NotebookEvidence:
    """One notebook's run: findings, how the kernel ended, and (reference runs) what the probes saw."""

    findings: list[Finding] = field(default_factory=list)
    kernel_died: str | None = None
    stopped_by_guard: bool = False
    guard_seconds: float = 0.0
    observations: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    def cells(self, *kinds: Kind) -> set[str]:
        return {f.cell for f in self.findings if f.kind in kinds}

    def to_json(self) -> dict:
        data = asdict(self)
        data["findings"] = [{"cell": f.cell, "kind": f.kind.value, "message": f.message}
                            for f in self.findings]
        return data

    @classmethod
    def from_json(cls, data: dict) -> NotebookEvidence:
        return cls(findings=[Finding(f["cell"], Kind(f["kind"]), f["message"]) for f in data["findings"]],
                   kernel_died=data.get("kernel_died"), stopped_by_guard=bool(data.get("stopped_by_guard")),
                   guard_seconds=float(data.get("guard_seconds", 0.0)),
                   observations=data.get("observations", {}))


def read(path: Path) -> dict[str, NotebookEvidence]:
    """Every notebook's evidence in a job's file ({} when there is none or it is unreadable)."""
    try:
        data = json.loads(Path(path).read_text())
        return {name: NotebookEvidence.from_json(item) for name, item in data.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write(path: Path, notebook: str, evidence: NotebookEvidence) -> None:
    """Add (or replace) one notebook's evidence in the job's file."""
    path = Path(path)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[notebook] = evidence.to_json()
    path.write_text(json.dumps(data))
