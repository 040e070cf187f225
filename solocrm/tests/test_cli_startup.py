"""`solocrm` starts fast: the everyday commands skip Django's system checks (which import every
URL module, and with them pandas, scipy, scikit-learn, statsmodels and fpdf) and their modules
import heavy libraries only inside the functions that use them.

What is imported is checked in a fresh process through ``sys.modules``; how long it takes is
measured by ``bench/cli_startup.py``, never here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "pandas",
    "numpy",
    "scipy",
    "sklearn",
    "statsmodels",
    "openpyxl",
    "fpdf",
    "fontTools",
    "lifetimes",
    "rich",
)
FAST_COMMANDS = ("analytics", "createuser", "dedupe", "demo", "export", "import", "tasks", "token")
CHECKED_COMMANDS = ("serve", "worker")

# Runs the console script's main() in a fresh interpreter, then reports which heavy packages
# were imported and whether the system checks ran (the URL configuration is loaded by them).
PROBE = """
import json, sys
sys.argv = ["solocrm", *json.loads(sys.argv[1])]
from solocrm.cli import main
try:
    main()
except SystemExit:
    pass
heavy = {heavy}
print("PROBE " + json.dumps({{
    "heavy": sorted(name for name in heavy if name in sys.modules),
    "urls_loaded": "solocrm.urls" in sys.modules,
}}))
"""


def run_solocrm(tmp_path: Path, *args: str) -> dict:
    env = {"SOLOCRM_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=repr(HEAVY)), json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    line = next((row for row in done.stdout.splitlines() if row.startswith("PROBE ")), None)
    assert line is not None, done.stderr
    return json.loads(line.removeprefix("PROBE "))


@pytest.mark.parametrize("name", FAST_COMMANDS)
def test_the_everyday_commands_skip_the_system_checks(name):
    command = load_command_class(get_commands()[name], name)
    assert command.requires_system_checks == []


@pytest.mark.parametrize("name", CHECKED_COMMANDS)
def test_serve_and_worker_still_run_every_system_check(name):
    command = load_command_class(get_commands()[name], name)
    assert command.requires_system_checks == "__all__"


def test_solocrm_help_lists_the_commands_without_importing_heavy_libraries(tmp_path):
    probe = run_solocrm(tmp_path, "--help")
    assert probe == {"heavy": [], "urls_loaded": False}


@pytest.mark.parametrize(
    "args",
    [
        ("tasks", "today", "--help"),
        ("export", "contacts", "--help"),
        ("import", "--help"),
        ("analytics", "fit-clv", "--help"),
        ("dedupe", "--help"),
        ("token", "--help"),
        ("createuser", "--help"),
    ],
)
def test_a_command_module_imports_no_heavy_library_at_module_level(tmp_path, args):
    probe = run_solocrm(tmp_path, *args)
    assert probe == {"heavy": [], "urls_loaded": False}


def test_fit_clv_imports_only_what_the_models_need(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer,date,amount\na,2024-01-01,10\na,2024-02-01,12\nb,2024-01-05,5\nb,2024-03-01,7\n"
    )
    columns = ("--customer-col", "customer", "--date-col", "date", "--json")
    probe = run_solocrm(tmp_path, "analytics", "fit-clv", str(path), *columns)
    # pandas reads the file and scipy fits the models; nothing else heavy, and no URL checks.
    assert probe == {"heavy": ["numpy", "pandas", "scipy"], "urls_loaded": False}


def test_a_checked_command_still_loads_the_url_configuration(tmp_path):
    # `solocrm check` is how a user runs the checks the everyday commands skip.
    probe = run_solocrm(tmp_path, "check")
    assert probe["urls_loaded"] is True


FIT_CLV_PROBE = """
import json, sys
sys.argv = ["solocrm", "analytics", "fit-clv", *json.loads(sys.argv[1])]
from solocrm.cli import main
try:
    main()
except SystemExit:
    pass
loaded = set(sys.modules)
models = sorted(name for name in loaded if name.startswith("solocrm.") and name.endswith(".models"))
print("PROBE " + json.dumps({
    "project_models": models,
    "command_module": "solocrm.analytics.management.commands.analytics" in loaded,
    "f2py_executed": "numpy.f2py.f2py2e" in loaded,
}))
"""


def test_fit_clv_runs_without_the_project_apps(tmp_path):
    # fit-clv reads only its file: no project model, not even the management command's module, and NumPy's
    # Fortran wrapper generator (which SciPy's namespace copy would load) stays unloaded.
    path = tmp_path / "orders.csv"
    path.write_text("customer,date,amount\na,2024-01-01,10\na,2024-02-01,12\nb,2024-01-05,5\n")
    args = [str(path), "--customer-col", "customer", "--date-col", "date", "--json"]
    env = {"SOLOCRM_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", FIT_CLV_PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert '"customers": 2' in done.stdout, done.stderr
    probe = json.loads(done.stdout.rsplit("PROBE ", 1)[1])
    assert probe == {"project_models": [], "command_module": False, "f2py_executed": False}
