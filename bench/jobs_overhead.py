"""Benchmark: what running a job in its own process costs (solocrm.jobs).

    python bench/jobs_overhead.py [--jobs 20] [--slots 2]

On a fresh SQLite database in a temporary data directory (or DATABASE_URL's), measures:

- the baseline, in the same run: a bare ``python -c "import django; django.setup()"`` (best of 3),
  which is what every job's child process pays before it can start;
- a trivial job run inline (``services.run_here``: the Job row, claim, progress, finish);
- the latency of one trivial job through a real `solocrm worker` (enqueue -> done, one at a
  time, mean of 5), and the throughput of ``--jobs`` trivial jobs queued at once.

Prints one JSON line. No budget in the issue: the figure to keep an eye on is the per-job
latency beside the baseline (a job should cost little more than one Django start-up).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def django_setup_seconds(env: dict[str, str]) -> float:
    code = (
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'solocrm.settings'); "
        "django.setup()"
    )
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def wait_done(job_ids: list[int], worker: subprocess.Popen, deadline: float = 600.0) -> None:
    from django.db import close_old_connections

    from solocrm.jobs.choices import FINISHED
    from solocrm.jobs.models import Job

    end = time.monotonic() + deadline
    while time.monotonic() < end:
        close_old_connections()
        if Job.objects.filter(pk__in=job_ids, status__in=FINISHED).count() == len(job_ids):
            return
        if worker.poll() is not None:
            raise SystemExit(f"the worker stopped (exit code {worker.returncode})")
        time.sleep(0.02)
    raise SystemExit("the worker did not finish the jobs in time")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--slots", type=int, default=2)
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="solocrm-bench-jobs-"))
    env = {**os.environ, "SOLOCRM_DATA_DIR": str(data), "SOLOCRM_JOBS_INLINE": "0",
           "SOLOCRM_ANALYTICS_HOUR": "off", "PYTHONPATH": str(ROOT)}  # fmt: skip
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from solocrm.jobs import services
    from solocrm.jobs.tests import kinds

    call_command("migrate", verbosity=0)
    baseline = django_setup_seconds(env)

    started = time.perf_counter()
    for _ in range(args.jobs):
        services.run_here(kinds.adds, params={"a": 1, "b": 2})
    inline = (time.perf_counter() - started) / args.jobs

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "solocrm.cli",
            "worker",
            "--interval",
            "0.1",
            "--slots",
            str(args.slots),
            "-v",
            "0",
        ],
        env=env,
    )
    try:
        wait_done([services.enqueue(kinds.adds, params={"a": 0, "b": 0}).pk], worker)  # the worker is up
        latencies = []
        for _ in range(5):
            started = time.perf_counter()
            wait_done([services.enqueue(kinds.adds, params={"a": 1, "b": 2}).pk], worker)
            latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        wait_done(
            [services.enqueue(kinds.adds, params={"a": n, "b": n}).pk for n in range(args.jobs)], worker
        )
        batch = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait()

    from django.db import connection

    print(
        json.dumps(
            {
                "database": connection.vendor,
                "baseline_django_setup_s": round(baseline, 3),
                "inline_job_ms": round(inline * 1000, 1),
                "worker_job_latency_s": round(sum(latencies) / len(latencies), 3),
                "worker_latency_over_baseline_s": round(sum(latencies) / len(latencies) - baseline, 3),
                "worker_jobs": args.jobs,
                "worker_slots": args.slots,
                "worker_jobs_per_s": round(args.jobs / batch, 2),
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
