#!/usr/bin/env python3
"""Set up solocrm and start it, or set it up and run every test. Needs only Python 3.11+.

    python3 dev.py start   # virtualenv + dependencies, then `solocrm serve` on 127.0.0.1:8000
    python3 dev.py test    # virtualenv + dev dependencies, lint, then the suite on SQLite and PostgreSQL

Both are idempotent: the virtualenv in .venv is re-used and only re-installed when a lock file changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
CHROMIUM = Path(os.environ.get("SOLOCRM_CHROMIUM", "/usr/bin/chromium"))
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/solocrm"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*args: str | Path, env: dict | None = None, check: bool = True) -> int:
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if check and result.returncode != 0:
        sys.exit(result.returncode)
    return result.returncode


def ensure_venv(lock: str) -> None:
    """Create .venv and install the lock file plus solocrm itself, unless already done."""
    if not PY.exists():
        say("creating the virtual environment in .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    lock_path = ROOT / "requirements" / lock
    stamp = VENV / f".installed-{lock}"
    digest = hashlib.sha256(lock_path.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing dependencies from requirements/{lock}")
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", lock_path)
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e", ".")
    stamp.write_text(digest)


def start(extra: list[str]) -> None:
    ensure_venv("base.lock")
    os.execv(BIN / "solocrm", [str(BIN / "solocrm"), "serve", *extra])  # noqa: S606


def apt_install(package: str, binary: Path, why: str) -> bool:
    """Install a Debian package the tests need when we can (root with apt); True when its
    binary is there afterwards."""
    if binary.exists():
        return True
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        say(f"installing Debian's {package} {why}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", env=env, check=False)
        run("apt-get", "install", "-y", "-qq", package, env=env, check=False)
    return binary.exists()


def ensure_chromium() -> bool:
    """The browser tests drive Debian's chromium."""
    return apt_install("chromium", CHROMIUM, "for the browser tests")


DOVECOT = Path("/usr/sbin/dovecot")


def ensure_dovecot() -> bool:
    """The mail tests sync from a real IMAP server: Debian's Dovecot (dovecot-imapd), started by
    the tests themselves on a free port with a throw-away configuration (the package's own
    service is not started: no systemd in CI)."""
    return apt_install("dovecot-imapd", DOVECOT, "for the mail tests")


def postgres_reachable(url: str) -> bool:
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=3):
            return True
    except OSError:
        return False


def test(extra: list[str]) -> None:
    ensure_venv("dev.lock")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.setdefault("SOLOCRM_DATA_DIR", str(ROOT / "data" / "test"))
    if not ensure_chromium():
        if IN_CI:
            sys.exit(f"chromium is missing at {CHROMIUM} and could not be installed")
        say(f"chromium not found at {CHROMIUM}: the browser tests will be skipped")
        env["SOLOCRM_SKIP_BROWSER"] = "1"
    if not ensure_dovecot():
        if IN_CI:
            sys.exit(f"dovecot is missing at {DOVECOT} and could not be installed")
        say(f"dovecot not found at {DOVECOT}: the IMAP (mail sync) tests will be skipped")
        env["SOLOCRM_SKIP_IMAP"] = "1"
    say("ruff")
    run(BIN / "ruff", "check", ".")
    say("layers (import-linter: every package imports only the layers below it)")
    run(BIN / "lint-imports")
    say("migrations are complete")
    run(PY, "manage.py", "makemigrations", "--check", "--dry-run", env=env)
    say("tests on SQLite")
    sqlite_env = {**env}
    sqlite_env.pop("DATABASE_URL", None)
    run(PY, "-m", "pytest", *extra, env=sqlite_env)
    pg_url = os.environ.get("SOLOCRM_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    if not postgres_reachable(pg_url):
        if IN_CI:
            sys.exit(f"PostgreSQL is not reachable at {pg_url}; CI needs it")
        say(
            f"PostgreSQL not reachable at {pg_url}: SKIPPING the PostgreSQL leg "
            "(start it or set SOLOCRM_TEST_POSTGRES_URL)"
        )
        return
    say("tests on PostgreSQL")
    run(PY, "-m", "pytest", *extra, env={**env, "DATABASE_URL": pg_url})


def main() -> None:
    commands = {"start": start, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
