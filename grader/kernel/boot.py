"""Start a kernel for grading: install the grader's guard first, then run ipykernel as usual.

    python -P grader/kernel/boot.py -f CONNECTION_FILE [ipykernel options]

``-P`` keeps the working folder (the student's files) off ``sys.path``, so no uploaded module
can shadow this script's imports. With ``GRADER_GUARD_DIR`` set, the guard's key is read from
``$GRADER_GUARD_DIR/key`` and the file deleted before any student code runs; the guard writes
its signed answers to a duplicate of the kernel's original stderr, which the grader reads
(``grader.preprocessors.guarded_execute``). Nothing sensitive stays in this script's frame,
which lies under every cell the kernel runs.
"""

import sys


def _install_guard() -> None:
    import builtins
    import gc
    import hashlib
    import os
    import signal

    folder = os.environ.pop("GRADER_GUARD_DIR", "")
    if not folder:
        return
    key_file = os.path.join(folder, "key")
    with open(key_file, "rb") as f:
        key = f.read()
    os.unlink(key_file)
    channel = os.dup(2)
    guard = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guard.py")
    with open(guard) as f:
        source = f.read()
    namespace = {"__builtins__": dict(vars(builtins)), "__name__": "grader_guard"}
    exec(compile(source, "<grader guard>", "exec"), namespace)
    namespace.update(
        _KEY=key, _CHANNEL=channel, _write=os.write, _blake2b=hashlib.blake2b, _exit=os._exit,
        _sigmask=signal.pthread_sigmask, _SIG_BLOCK=signal.SIG_BLOCK,
        _SIG_SETMASK=signal.SIG_SETMASK, _ALL_SIGNALS=signal.valid_signals(),
        _gc_disable=gc.disable, _gc_enable=gc.enable, _gc_isenabled=gc.isenabled, _sys=sys,
    )
    try:  # no other process of the same user may read this one's memory (/proc/PID/mem)
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
    sys.addaudithook(namespace["hook"])


if __name__ == "__main__":
    _install_guard()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
