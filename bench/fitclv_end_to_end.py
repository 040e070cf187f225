"""Benchmark: `solocrm analytics fit-clv FILE` end to end against the same steps with `lifetimes`.

    python bench/fitclv_end_to_end.py [--customers 1000000] [--seed 7] [--repeat 3]

The transactions file is simulated once (bench/analytics_clv.py's BG/NBD + Gamma-Gamma customer
base: CDNOW-like parameters, two years of days; 1M customers give 2,350,944 transactions) and
written as CSV to bench/out/ (`customer,date,amount`, ISO dates), then reused by later runs with
the same size and seed.

Each side is a fresh process, timed from its start to its exit, so process start and imports
count:

- ours: `solocrm analytics fit-clv FILE --customer-col customer --date-col date --amount-col
  amount --time-unit day --json` (read, summary, BG/NBD, Gamma-Gamma, P(alive), expected
  purchases, 12-month CLV, the top 10, the JSON report on stdout);
- the baseline: a script doing the same with pandas and lifetimes 0.11: `pd.read_csv(FILE,
  parse_dates=["date"])`, `summary_data_from_transaction_data(freq="D")`, `BetaGeoFitter`,
  `GammaGammaFitter` on the repeat buyers, `conditional_probability_alive`,
  `conditional_expected_number_of_purchases_up_to_time`, `customer_lifetime_value` (12 months,
  10 % a year), the top 10 and a JSON line on stdout.

The two are interleaved (ours, theirs, ours, ...) so load from other work on the machine hits both
alike; each figure is the median of ``--repeat`` runs, in wall time and in CPU time (user + system
of the process: what the wall time would be on an idle core, as both do their work on one). The
in-process timings of our read and of the report (for the breakdown in docs/benchmarks.md) come
from one more run inside this process; our start-up (interpreter, Django set-up, imports) is the
end-to-end time less these. Prints one JSON line: both medians, the speed-up (budget, issue 10:
>= 6x), the fitted parameters of both and their largest relative difference, whether both list the
same top 10, and the load average.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BUDGET_SPEEDUP = 6.0

LIFETIMES_SCRIPT = """
import json, sys, warnings
warnings.simplefilter("ignore")  # lifetimes' pandas deprecation noise
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data

tx = pd.read_csv(sys.argv[1], parse_dates=["date"])
s = summary_data_from_transaction_data(tx, "customer", "date", monetary_value_col="amount", freq="D")
bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
repeat = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
s["p_alive"] = bg.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
s["expected_purchases"] = bg.conditional_expected_number_of_purchases_up_to_time(
    365.25, s["frequency"], s["recency"], s["T"]
)
s["clv"] = gg.customer_lifetime_value(
    bg, s["frequency"], s["recency"], s["T"], s["monetary_value"],
    time=12, discount_rate=1.10 ** (1 / 12) - 1, freq="D",
)
top = s.nlargest(10, "clv")
print(json.dumps({
    "params": {**bg.params_.to_dict(), **gg.params_.to_dict()},
    "customers": len(s),
    "clv_total": float(s["clv"].sum()),
    "top": [str(c) for c in top.index],
}))
"""


def transactions_file(customers: int, seed: int) -> Path:
    """The simulated CSV, written once per size and seed."""
    path = OUT / f"clv_{customers}_seed{seed}.csv"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "bench"))
        from analytics_clv import simulate

        OUT.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        simulate(customers, seed).to_csv(partial, index=False, date_format="%Y-%m-%d")
        partial.rename(path)
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    """Wall time, CPU time (user + system) and the JSON output of one run of ``argv``."""
    cpu = children_cpu()
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return seconds, children_cpu() - cpu, json.loads(done.stdout.strip().splitlines()[-1])


def in_process_breakdown(path: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from solocrm.analytics.fitclv import fit_clv_report, read_transactions

    imported = time.perf_counter()
    transactions = read_transactions(path, customer_col="customer", date_col="date", amount_col="amount")
    read = time.perf_counter()
    report = fit_clv_report(transactions, time_unit="D")
    fitted = time.perf_counter()
    json.dumps(report)
    return {
        "read_csv": read - imported,
        "summary_fits_predictions_clv": fitted - read,
        "json": time.perf_counter() - fitted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = transactions_file(args.customers, args.seed)
    with tempfile.TemporaryDirectory(prefix="solocrm-fitclv-bench-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTHONPATH"}}
        env.update(PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="solocrm.settings", SOLOCRM_DATA_DIR=data_dir)
        columns = ["--customer-col", "customer", "--date-col", "date", "--amount-col", "amount"]
        ours_argv = [sys.executable, "-m", "solocrm.cli", "analytics", "fit-clv", str(path), *columns]
        ours_argv += ["--time-unit", "day", "--json"]
        theirs_argv = [sys.executable, "-c", LIFETIMES_SCRIPT, str(path)]
        ours_s: list[float] = []
        theirs_s: list[float] = []
        ours_cpu: list[float] = []
        theirs_cpu: list[float] = []
        for _ in range(args.repeat):
            seconds, cpu, report = run(ours_argv, env)
            ours_s.append(seconds)
            ours_cpu.append(cpu)
            print(f"solocrm fit-clv: {seconds:.2f} s ({cpu:.2f} s CPU)", file=sys.stderr, flush=True)
            seconds, cpu, baseline = run(theirs_argv, env)
            theirs_s.append(seconds)
            theirs_cpu.append(cpu)
            print(f"lifetimes: {seconds:.2f} s ({cpu:.2f} s CPU)", file=sys.stderr, flush=True)
    ours_params = {**report["bgnbd"]["params"], **report["gamma_gamma"]["params"]}
    theirs_params = {k: baseline["params"][k] for k in ours_params}
    ours_median, theirs_median = statistics.median(ours_s), statistics.median(theirs_s)
    breakdown = in_process_breakdown(path)
    result = {
        "customers": report["data"]["customers"],
        "transactions": report["data"]["transactions"],
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "repeat": args.repeat,
        "ours_s": round(ours_median, 2),
        "ours_runs_s": [round(s, 2) for s in ours_s],
        "lifetimes_s": round(theirs_median, 2),
        "lifetimes_runs_s": [round(s, 2) for s in theirs_s],
        "speedup": round(theirs_median / ours_median, 1),
        "budget_speedup": BUDGET_SPEEDUP,
        "within_budget": theirs_median / ours_median >= BUDGET_SPEEDUP,
        # CPU time (user + system): what the wall time would be on an idle machine
        "ours_cpu_s": round(statistics.median(ours_cpu), 2),
        "lifetimes_cpu_s": round(statistics.median(theirs_cpu), 2),
        "speedup_cpu": round(statistics.median(theirs_cpu) / statistics.median(ours_cpu), 1),
        "ours_in_process_s": {k: round(v, 3) for k, v in breakdown.items()},
        # what the process spends outside its work: interpreter, Django set-up, imports
        "ours_start_and_imports_s": round(ours_median - sum(breakdown.values()), 2),
        "params": {k: round(v, 5) for k, v in ours_params.items()},
        "lifetimes_params": {k: round(v, 5) for k, v in theirs_params.items()},
        "params_max_relative_difference": float(
            f"{max(abs(ours_params[k] - theirs_params[k]) / abs(theirs_params[k]) for k in ours_params):.2e}"
        ),
        "same_top_10": [row["customer"] for row in report["top_customers"]] == baseline["top"],
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
