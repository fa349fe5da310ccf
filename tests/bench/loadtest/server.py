"""The portal under gunicorn on a free loopback port, for the HTTP benchmarks.

``portal_env(database_url)`` is the environment of every process of a bench (gunicorn, seeding
scripts): production settings (``DJANGO_DEBUG=0``) on the bench database, simulated Stripe,
email kept in memory (nothing is sent), background tasks queued in the database as in
production, no HTTPS redirect on loopback. ``FUNDPORTAL_TESTING=1`` is kept only for what it
does to static files (no manifest, so no ``collectstatic`` before each run) and password
hashing; the tasks backend is set explicitly.
``gunicorn(env, workers=…)`` starts the server in its own process group and always stops it.
"""

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BENCH_SECRET_KEY = "bench-only-secret-key-" + "x" * 40
# A fixed Fernet key (production settings require one): 32 bytes, URL-safe base64.
BENCH_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"bench-only-field-encryption-key!").decode()


def portal_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_TEST_NAME", "PYTEST_CURRENT_TEST")
    }
    env.update(
        DATABASE_URL=database_url,
        FUNDPORTAL_TESTING="1",
        DJANGO_DEBUG="0",
        SECRET_KEY=BENCH_SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=BENCH_ENCRYPTION_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        STRIPE_GATEWAY="simulated",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        # Production's default (FUNDPORTAL_TESTING above would make it 0).
        DATABASE_CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_python(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run ``python <args>`` in the project with ``env``; its output, or an error carrying it."""
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers: up (any status)
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s")


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], *, workers: int = 2, probe: str = "/", timeout: float = 90
) -> Iterator[str]:
    """Serve the portal with ``workers`` sync workers on 127.0.0.1; yields the base URL.

    The server's output goes to a temporary log, printed if it fails to start. On the way out
    the whole process group gets SIGTERM, then SIGKILL if it lingers.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "fundportal.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
             "--timeout", "120", "--backlog", "2048", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            try:
                _wait_until_up(base + probe, process, timeout)
            except RuntimeError:
                log.seek(0)
                print(log.read()[-5000:])
                raise
            yield base
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            log.seek(0)
            errors = [line for line in log.read().splitlines() if "Traceback" in line or "ERROR" in line]
            if errors:
                print(f"gunicorn logged {len(errors)} error lines, first: {errors[0]}")


def start_python(env: dict[str, str], *args: str, keep_output: bool = True) -> subprocess.Popen:
    """Start ``python <args>`` in the project with ``env``, in its own process group.

    ``keep_output=False`` discards its output: for a process that runs alongside a bench and is
    stopped, whose output nobody reads while it runs (a full pipe would block it)."""
    output = subprocess.PIPE if keep_output else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip


def finish(process: subprocess.Popen, *, timeout: float) -> str:
    """Wait for a process started by ``start_python``; its output, or an error carrying it.

    A process still running after ``timeout`` is killed with its group (never left behind)."""
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise RuntimeError(
            f"{process.args} did not finish within {timeout:.0f} s:\n{output[-3000:]}"
        ) from None
    if process.returncode != 0:
        raise RuntimeError(f"{process.args} failed:\n{output[-3000:]}")
    return output


def stop(process: subprocess.Popen, *, timeout: float = 30) -> None:
    """Stop a long-running process started by ``start_python`` (SIGTERM: a task worker finishes the
    task in hand), SIGKILL to its group if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
