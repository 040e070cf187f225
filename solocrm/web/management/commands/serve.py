"""`solocrm serve`: upgrade the database safely, then serve solocrm with waitress."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import waitress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from solocrm.users.setup import issue_setup_token, setup_needed
from solocrm.web.upgrade import migrate_with_backup

WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104 (these are what we warn about)


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a public address


def base_url(host: str, port: int) -> str:
    """The address to type into a browser (a wildcard bind is reachable on 127.0.0.1)."""
    shown = "127.0.0.1" if host in WILDCARD_HOSTS else host.strip("[]")
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


class Command(BaseCommand):
    help = _("Apply database upgrades (after a backup) and serve solocrm with waitress.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help=_("Address to listen on (default 127.0.0.1).")
        )
        parser.add_argument("--port", type=int, default=8000, help=_("Port to listen on (default 8000)."))
        parser.add_argument("--threads", type=int, default=8, help=_("Worker threads (default 8)."))
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help=_("Do not run background jobs in this process (run `solocrm worker` elsewhere)."),
        )
        parser.add_argument(
            "--slots",
            type=int,
            default=2,
            help=_("Background jobs the embedded worker runs at once, each in its own process (default 2)."),
        )

    def handle(
        self, *args, host: str, port: int, threads: int, no_worker: bool, slots: int, **options
    ) -> None:
        self._upgrade()
        server = self._listen(host, port, threads)
        url = base_url(host, port)
        if not is_loopback(host):
            self._warn_public(host)
        if setup_needed():
            self._announce_setup(url)
        self._schedule_analytics()
        runner = None if no_worker else self._start_worker(slots)
        self.stdout.write(self.style.SUCCESS(_("solocrm is running: open %(url)s") % {"url": url}))
        self.stdout.write(_("Press Ctrl+C to stop."))
        try:
            server.run()
        except KeyboardInterrupt:
            self.stdout.write(_("Stopped."))
        finally:
            if runner is not None:
                runner.stopping.set()  # running jobs end with this process (marked at next start)
                if runner.pool is not None:
                    runner.pool.stop()

    def _start_worker(self, slots: int):
        """The embedded worker: a solo owner needs only `solocrm serve`. It runs in a thread of
        this process, but every job runs in a child process of its own, never in the server."""
        import os
        import socket
        import threading

        from solocrm.jobs.worker import database_backend
        from solocrm.web.management.commands.worker import Runner

        backend = database_backend()
        if backend is None:
            self.stdout.write(_("Background jobs run inline (SOLOCRM_JOBS_INLINE)."))
            return None
        worker_id = f"{socket.gethostname()}-{os.getpid()}"[:64]
        runner = Runner(interval=2.0, once=False, worker_id=worker_id, backend=backend, slots=max(1, slots))
        threading.Thread(target=runner.run, daemon=True, name="embedded-worker").start()
        self.stdout.write(
            _("Background jobs run here (%(slots)d at once); more workers: `solocrm worker`.")
            % {"slots": slots}
        )
        return runner

    def _listen(self, host: str, port: int, threads: int):
        # WhiteNoise warns about a missing STATIC_ROOT on every start; an empty one is fine
        # because files are served from the apps (WHITENOISE_USE_FINDERS).
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        from solocrm.wsgi import application

        try:
            return waitress.create_server(application, host=host, port=port, threads=threads, ident="solocrm")
        except OSError as error:  # port taken, address not on this machine, no permission
            raise CommandError(
                _("Cannot listen on %(host)s:%(port)d: %(error)s. Is solocrm already running? Try --port.")
                % {"host": host, "port": port, "error": error.strerror or error}
            ) from None

    def _schedule_analytics(self) -> None:
        from django.core.exceptions import ImproperlyConfigured

        from solocrm.analytics import tasks
        from solocrm.web.dashboard import start_figures_warmer

        if not settings.SOLOCRM_JOBS_INLINE:  # inline jobs (tests, debugging): no background threads
            start_figures_warmer()

        try:  # the worker's clock queues it; a wrong hour must stop the start, not each tick
            hour = tasks.refresh_hour()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        if hour is None:
            self.stdout.write(_("The daily analytics refresh is off (SOLOCRM_ANALYTICS_HOUR=off)."))
        else:
            self.stdout.write(_("Analytics refresh every day after %(hour)02d:00.") % {"hour": hour})

    def _upgrade(self) -> None:
        result = migrate_with_backup(log=self.stdout.write)
        if result.pending:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Database upgraded (%(count)d migrations).") % {"count": len(result.pending)}
                )
            )
        else:
            self.stdout.write(_("Database is up to date (%(vendor)s).") % {"vendor": connection.display_name})

    def _warn_public(self, host: str) -> None:
        self.stderr.write(
            self.style.WARNING(
                _(
                    "Warning: listening on %(host)s, so other machines on the network can reach "
                    "solocrm. Put it behind an HTTPS reverse proxy, set SOLOCRM_ALLOWED_HOSTS to the "
                    "names it is reached by and SOLOCRM_SECURE_COOKIES=1."
                )
                % {"host": host or "*"}
            )
        )

    def _announce_setup(self, url: str) -> None:
        token = issue_setup_token()
        self.stdout.write("")
        self.stdout.write(self.style.WARNING(_("No user exists yet. To create the owner account, open")))
        self.stdout.write(f"    {url}setup/")
        self.stdout.write(self.style.WARNING(_("and enter this one-time set-up token:")))
        self.stdout.write(f"    {token}")
        self.stdout.write("")
