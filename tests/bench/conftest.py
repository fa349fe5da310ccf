"""Shared by the benchmarks: the portal at scale, generated once per session, and timing helpers.

``scale_data`` runs ``seed_scale``'s generator once, committed, so every benchmark of the session
reads the same rows (the database is dropped at the end of the run). ``BENCH_SCALE`` scales the
counts: 1 (the default) is the full 50,000 applications and 200,000 donations.
"""

import os
import statistics
import time

import pytest

from grants.management.commands.seed_scale import ScaleSeeder

FULL_SCALE = {"applications": 50_000, "donations": 200_000, "organizations": 5_000}


def scale_options() -> dict:
    factor = float(os.environ.get("BENCH_SCALE", "1"))
    options = {name: max(1, int(count * factor)) for name, count in FULL_SCALE.items()}
    return {
        "foundations": 2,
        "funds": 6,
        "calls": 20,
        "seed": int(os.environ.get("BENCH_SEED", "1")),
        "batch_size": 5000,
        **options,
    }


@pytest.fixture(scope="session")
def scale_data(django_db_setup, django_db_blocker):
    """The generated portal (``seed_scale.ScaleData``), committed for the whole session."""
    started = time.perf_counter()
    with django_db_blocker.unblock():
        data = ScaleSeeder(**scale_options()).run()
    print(f"\nseed_scale {scale_options()}: {time.perf_counter() - started:.0f} s {data.seconds}")
    return data


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def paired_medians(measured, baseline, *, runs: int = 30, warmup: int = 3) -> tuple[float, float]:
    """Median seconds of ``measured()`` and ``baseline()``, run alternately so that a busy
    machine slows both alike."""
    for _ in range(warmup):
        measured()
        baseline()
    times_measured, times_baseline = [], []
    for _ in range(runs):
        times_measured.append(timed(measured))
        times_baseline.append(timed(baseline))
    return statistics.median(times_measured), statistics.median(times_baseline)


def report(target: str, ratio: float, limit: float, detail: str = "") -> bool:
    """Print one result line: target, measured ratio, limit, holds or fails."""
    holds = ratio <= limit
    print(f"{target}: ratio {ratio:.2f} (target ≤ {limit:g}) {'holds' if holds else 'FAILS'}  {detail}")
    return holds
