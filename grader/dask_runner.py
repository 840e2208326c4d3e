"""``grader autograde --scheduler ADDRESS``: grade on a Dask cluster instead of this machine.

Dask (``distributed``) is the established engine here because it is plain Python, runs the same
function on a laptop, a lab of workstations or Kubernetes (dask-kubernetes, Dask Gateway), and
already does what a class needs: a queue, workers that each take one task at a time, and
rescheduling when a worker dies. Each submission is one task, :func:`grader.job.run_packed`: the
job folder (template gradebook and the pre-checked notebooks) travels as bytes, the worker runs
the same sandboxed ``nbgrader autograde`` a local job runs, and the graded folder comes back as
bytes. The parent merges results into the one gradebook exactly as for ``--jobs``, so workers
need the course installed (same path, same ``make setup``) but no shared disk and no gradebook.

A worker that dies mid-run loses nothing: the scheduler hands its task to another worker (up to
Dask's ``allowed-failures``); a task that still fails becomes that student's status line.
Start workers with one thread each (``dask worker ADDRESS --nthreads 1``): a job is one kernel.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

from grader.autograde import Runner
from grader.job import Job, JobResult, run_packed, unpack
from grader.limits import Limits, limits_to_json


def dask_runner(address: str, *, connect_timeout_s: float = 30) -> Runner:
    """A runner that sends every job to the Dask scheduler at ``address``."""

    def run(prepared: list[Job], limits: Limits) -> Iterator[tuple[Job, JobResult | BaseException]]:
        from distributed import Client, as_completed

        with Client(address, timeout=connect_timeout_s) as client:
            futures = {
                client.submit(run_packed, job.pack(), job.student, job.lesson, limits_to_json(limits),
                              str(job.source), key=f"autograde-{job.lesson}-{job.student}",
                              pure=False, retries=1): job
                for job in prepared
            }
            for future in as_completed(futures):
                job = futures[future]
                try:
                    packed, result = future.result()
                except BaseException as err:  # KilledWorker after too many deaths, a worker error ...
                    yield job, err
                    continue
                shutil.rmtree(job.root, ignore_errors=True)
                unpack(packed, job.root)
                yield job, JobResult(**result)

    return run
