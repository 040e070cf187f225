"""Benchmark: how long `solocrm` commands take to start, against `django.setup()` in the same run.

    python bench/cli_startup.py [--repeat 7] [--tree PATH]

Every command runs in a fresh process, the way a user runs it, on tiny inputs so that the time is
start-up, not work: `solocrm --help`, `solocrm tasks today --json` on an empty migrated SQLite
database, `solocrm export contacts` to /dev/null on the same empty database, `solocrm import
contacts tiny.csv --dry-run` (two rows) and `solocrm analytics fit-clv` on a 10-row CSV. The
baseline is `python -c "import django; django.setup()"` with the project's settings and the same
environment. The runs are interleaved (baseline, each command, baseline, ...) so that a burst of
load from other work on the machine hits all of them alike; each figure is the median of
``--repeat`` runs. A second reference, `django.setup()` followed by `import pandas, scipy.optimize,
scipy.special`, is the floor for fit-clv, whose work needs those libraries: its overhead over that
floor is what the command itself adds. ``--tree`` times another source tree (e.g. ``git archive``
of an older commit) with this same script, for a before/after comparison.

Besides wall time, each run's CPU time (user + system, from ``getrusage`` of the children) is
recorded: on a machine shared with other work it is what the wall time would be on an idle core.

Prints one JSON line: the baseline, each command's median wall time and its overhead over the
baseline, and whether each overhead is within the budget (issue 10: <= 0.5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 0.5
CONTACTS_CSV = "first_name,last_name,email\nAnn,Lee,ann@example.com\nBo,Chen,bo@example.com\n"
CLV_ROWS = [("a", "2024-01-03", 10.0), ("a", "2024-02-11", 12.5), ("a", "2024-05-20", 9.0)]
CLV_ROWS += [("b", "2024-01-05", 5.0), ("b", "2024-03-01", 7.0), ("c", "2024-02-01", 3.0)]
CLV_ROWS += [("d", "2024-01-20", 40.0), ("d", "2024-04-02", 35.0), ("e", "2024-03-09", 8.0)]
CLV_ROWS += [("f", "2024-06-01", 22.0)]


def commands(inputs: Path) -> dict[str, list[str]]:
    clv = ["--customer-col", "customer", "--date-col", "date", "--amount-col", "amount", "--json"]
    return {
        "help": ["--help"],
        "tasks_today": ["tasks", "today", "--json"],
        "export_contacts": ["export", "contacts"],
        "import_contacts_dry_run": ["import", "contacts", str(inputs / "tiny.csv"), "--dry-run"],
        "analytics_fit_clv": ["analytics", "fit-clv", str(inputs / "clv.csv"), *clv],
    }


def write_inputs(folder: Path) -> None:
    (folder / "tiny.csv").write_text(CONTACTS_CSV)
    lines = ["customer,date,amount", *(f"{c},{d},{a}" for c, d, a in CLV_ROWS)]
    (folder / "clv.csv").write_text("\n".join(lines) + "\n")


def environment(tree: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTHONPATH"}}
    env.update(
        PYTHONPATH=str(tree),
        DJANGO_SETTINGS_MODULE="solocrm.settings",
        SOLOCRM_DATA_DIR=str(data_dir),
    )
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time and CPU time of one run of ``argv``."""
    cpu = children_cpu()
    began = time.perf_counter()
    done = subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode()}")
    return seconds, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--tree", type=Path, default=ROOT, help="source tree to time (default: this one)")
    args = parser.parse_args()
    tree = args.tree.resolve()
    with tempfile.TemporaryDirectory(prefix="solocrm-cli-bench-") as tmp:
        folder = Path(tmp)
        write_inputs(folder)
        env = environment(tree, folder / "data")
        solocrm = [sys.executable, "-m", "solocrm.cli"]
        subprocess.run([*solocrm, "migrate", "-v", "0"], env=env, cwd=tree, check=True)  # untimed
        runs: dict[str, list[tuple[float, float]]] = {"django_setup": [], "django_setup_and_libraries": []}
        baseline = [sys.executable, "-c", "import django; django.setup()"]
        floor = [sys.executable, "-c", f"{baseline[-1]}; import pandas, scipy.optimize, scipy.special"]
        for _ in range(args.repeat):
            runs["django_setup"].append(timed(baseline, env, tree))
            runs["django_setup_and_libraries"].append(timed(floor, env, tree))
            for name, argv in commands(folder).items():
                runs.setdefault(name, []).append(timed([*solocrm, *argv], env, tree))
    medians = {name: statistics.median(wall for wall, _ in timings) for name, timings in runs.items()}
    cpu = {name: statistics.median(used for _, used in timings) for name, timings in runs.items()}
    base, base_cpu = medians.pop("django_setup"), cpu.pop("django_setup")
    libraries, libraries_cpu = (
        medians.pop("django_setup_and_libraries"),
        cpu.pop("django_setup_and_libraries"),
    )
    overhead = {name: seconds - base for name, seconds in medians.items()}
    for name, seconds in medians.items():
        print(f"{name:<24} {seconds:6.3f} s  overhead {overhead[name]:+.3f} s", file=sys.stderr)
    result = {
        "tree": str(tree),
        "repeat": args.repeat,
        "django_setup_s": round(base, 3),
        "django_setup_and_libraries_s": round(libraries, 3),
        "fit_clv_over_libraries_s": round(medians["analytics_fit_clv"] - libraries, 3),
        "median_s": {k: round(v, 3) for k, v in medians.items()},
        "overhead_s": {k: round(v, 3) for k, v in overhead.items()},
        "budget_overhead_s": BUDGET_S,
        "within_budget": {k: v <= BUDGET_S for k, v in overhead.items()},
        "cpu": {
            "django_setup_s": round(base_cpu, 3),
            "django_setup_and_libraries_s": round(libraries_cpu, 3),
            "median_s": {k: round(v, 3) for k, v in cpu.items()},
            "overhead_s": {k: round(v - base_cpu, 3) for k, v in cpu.items()},
        },
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
