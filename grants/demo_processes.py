"""Running the demo's processes together: the web server in front, the scheduler behind it.

``make demo`` is one command a newcomer starts and stops with Ctrl-C; whatever it started in the
background must stop with it. Each process runs in a session of its own (so stopping it stops
whatever it started, such as runserver's reloader child) and, on Linux, is told by the kernel
to stop when the process that started it dies, however it dies (even ``kill -9``).
"""

import contextlib
import ctypes
import os
import signal
import subprocess

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Stop(Exception):
    pass


def _die_with(parent_pid: int):
    """Runs in the child before its program starts: SIGTERM when the parent dies (Linux only;
    elsewhere the parent's signal handlers still stop it)."""

    def prepare():
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before the line above
            os._exit(1)

    return prepare


def start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with(os.getpid()))


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop the process and everything it started (its whole session)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def run_together(main: list[str], background: list[list[str]]) -> int:
    """Run ``main`` in front and ``background`` behind it until ``main`` ends or this process is
    told to stop (Ctrl-C, SIGTERM, SIGHUP); then stop them all. Returns ``main``'s exit code
    (0 when stopped by a signal)."""

    def on_signal(signum, frame):
        raise _Stop(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    processes = []
    try:
        processes = [start(command) for command in background]
        server = start(main)
        processes.insert(0, server)
        return server.wait()
    except _Stop:
        return 0
    finally:
        for sig in STOP_SIGNALS:  # a second Ctrl-C must not interrupt the stopping
            signal.signal(sig, signal.SIG_IGN)
        for process in processes:
            stop(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
