"""`solocrm analytics refresh|status|fit-clv`.

fit-clv is checked on the CDNOW 1/10 sample shipped inside the lifetimes package (the data of
Fader, Hardie & Lee 2005, "Counting your customers the easy way"), straight from the file: the
calibration fit must show the paper's r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4.
"""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path

import lifetimes
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from solocrm.analytics import jobs
from solocrm.analytics.fitclv import read_transactions
from solocrm.analytics.models import CustomerScore, FittedModel
from solocrm.jobs.models import Job
from solocrm.web.demo import load_demo

CDNOW = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_sample.txt"
CDNOW_ARGS = ["--customer-col", "2", "--date-col", "3", "--amount-col", "5", "--date-format", "%Y%m%d"]


def run(*args: str) -> str:
    out = StringIO()
    call_command("analytics", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_refresh_writes_the_scores_and_reports_each_step():
    load_demo(contacts=80, seed=2, end=date.today())
    result = json.loads(run("refresh", "--json"))
    assert result["customers"] == CustomerScore.objects.filter(orders__gt=0).count() > 0
    assert {step["name"] for step in result["steps"]} >= {"summary", "clv", "write"}
    assert jobs.refresh_status()["state"] == "done"
    text = run("refresh")
    assert "Analytics refreshed in" in text and "clv" in text


@pytest.mark.django_db
def test_refresh_if_older_than_skips_a_recent_refresh():
    FittedModel.objects.create(kind="rfm", code_version="x")
    assert "nothing to do" in run("refresh", "--if-older-than", "1")


@pytest.mark.django_db
def test_status_says_idle_before_any_refresh():
    assert json.loads(run("status", "--json"))["state"] == "idle"
    assert "idle" in run("status")


@pytest.mark.django_db
@pytest.mark.django_db
def test_refresh_is_refused_while_another_runs():
    handler = jobs.refresh_job.job_kind.path
    Job.objects.create(kind=jobs.KIND, handler=handler, status="running", time_limit=60)
    with pytest.raises(CommandError, match="already running"):
        run("refresh")


def test_fit_clv_reproduces_the_paper_on_the_cdnow_file():
    report = json.loads(run("fit-clv", str(CDNOW), *CDNOW_ARGS, "--calibration-end", "1997-09-30", "--json"))
    calibration = report["holdout"]["bgnbd_calibration"]
    expected = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {k: round(v, 3) for k, v in calibration["params"].items()} == expected
    assert round(calibration["log_likelihood"], 1) == -9582.4
    assert report["data"]["customers"] == 2357


def test_fit_clv_prints_tables_for_a_person():
    text = run("fit-clv", str(CDNOW), *CDNOW_ARGS, "--calibration-end", "1997-09-30")
    assert "-9582.4" in text and "0.2426" in text and "Top customers by CLV" in text


def test_fit_clv_reads_a_csv_with_a_header(tmp_path):
    path = tmp_path / "orders.csv"
    rows = ["email,when,total"] + [
        f"c{i % 7}@x.org,2024-{1 + i % 12:02d}-{1 + i % 27:02d},{10 + i}" for i in range(60)
    ]
    path.write_text("\n".join(rows), encoding="utf-8")
    report = json.loads(run("fit-clv", str(path), "--customer-col", "email", "--date-col", "when",
                            "--amount-col", "total", "--time-unit", "day", "--json"))  # fmt: skip
    assert report["data"]["customers"] == 7 and report["data"]["time_unit"] == "days"


def test_fit_clv_names_a_missing_column(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("email,when\na@x.org,2024-01-01\n", encoding="utf-8")
    with pytest.raises(CommandError, match="total"):
        run("fit-clv", str(path), "--customer-col", "email", "--date-col", "when", "--amount-col", "total")


def test_fit_clv_says_when_the_file_is_missing(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run("fit-clv", str(tmp_path / "nope.csv"), "--customer-col", "a", "--date-col", "b")


def test_fit_clv_rejects_a_bad_calibration_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("fit-clv", str(CDNOW), *CDNOW_ARGS, "--calibration-end", "30/09/1997")


def test_fit_clv_prints_the_purchase_predictions_of_a_file_without_amounts():
    text = run("fit-clv", str(CDNOW), *CDNOW_ARGS[:4], "--date-format", "%Y%m%d")
    assert "Gamma-Gamma not fitted: the file has no amount column" in text
    assert "ranked by expected purchases" in text and "Top customers by expected purchases" in text
    assert "CLV" not in text.split("Top customers")[1]


def test_fit_clv_prints_the_warning_when_spend_follows_frequency(tmp_path):
    orders = read_transactions(CDNOW, customer_col=2, date_col=3, date_format="%Y%m%d")
    orders["amount"] = 10.0 * orders.groupby("customer")["date"].transform("nunique")  # loyal = big
    path = tmp_path / "orders.csv"
    orders.to_csv(path, index=False)
    args = ["fit-clv", str(path), "--customer-col", "customer", "--date-col", "date",
            "--amount-col", "amount"]  # fmt: skip
    spend = json.loads(run(*args, "--json"))["gamma_gamma"]
    text = " ".join(run(*args).split())
    assert spend["warning"] in text
    assert f"r = {spend['frequency_value_correlation']:.2f}" in text
