"""IMAP IDLE (RFC 2177): new mail shows within seconds where the server can tell us.

The worker (`solocrm worker`, or the one embedded in `solocrm serve`) keeps one watcher thread
per active account (``Supervisor``). A watcher logs in, opens the inbox read-only and waits in
IDLE; when the server announces new mail (``* n EXISTS``) it queues the account's ordinary sync
job (``jobs.queue_sync``: at most one waiting), so IDLE only decides *when* to sync — storing
stays the sync's one code path. The watcher renews IDLE every few minutes (servers drop idle
clients after 30), reconnects after a lost connection with a growing wait (2 s … 5 min), and
ends for good on a server without IDLE: the minute-by-minute polling covers that account.
Why threads and not a long-running job: see docs/decisions.md (a job would hold one of the
worker's few slots per account forever)."""

from __future__ import annotations

import imaplib
import logging
import select
import ssl
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections, connections

from . import imap
from .models import MailAccount

logger = logging.getLogger(__name__)

FOLDER = "INBOX"  # one connection per account: new mail arrives in the inbox
RENEW_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
WAIT_SECONDS = 1.0  # how often a waiting watcher checks whether it must stop
BACKOFF = 2.0
MAX_BACKOFF = 300.0
REFRESH_SECONDS = 60.0  # the supervisor re-reads the accounts this often

OnNew = Callable[[MailAccount], object]


class NoIdle(Exception):
    """The server does not offer IDLE: polling it is."""


def _readable(conn: imaplib.IMAP4, timeout: float) -> bool:
    sock = conn.sock
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True  # decrypted bytes already waiting: select() would not see them
    ready, _w, _x = select.select([sock], [], [], timeout)
    return bool(ready)


def _announces_new_mail(line: bytes) -> bool:
    parts = line.split()
    return len(parts) >= 3 and parts[0] == b"*" and parts[2].upper() in {b"EXISTS", b"RECENT"}


def fingerprint(account: MailAccount) -> tuple:
    """What the watcher's connection depends on: a change means a new connection."""
    return (
        account.imap_host,
        account.imap_port,
        account.imap_security,
        account.imap_user,
        account.imap_password_encrypted,
    )


class Watcher(threading.Thread):
    """Waits in IDLE on one account's inbox and calls ``on_new(account)`` on new mail."""

    def __init__(self, account: MailAccount, on_new: OnNew, *, renew: float = RENEW_SECONDS) -> None:
        super().__init__(daemon=True, name=f"mail-idle-{account.pk}")
        self.account_id, self.fingerprint = account.pk, fingerprint(account)
        self.on_new, self.renew = on_new, renew
        self.stopping = threading.Event()
        self.idling = threading.Event()  # set while waiting in IDLE (tests wait for it)
        self.unsupported = False

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        attempt = 0
        try:
            while not self.stopping.is_set():
                try:
                    self._watch()
                    attempt = 0
                except NoIdle:
                    self.unsupported = True
                    logger.info("mail account %s: the server has no IDLE; polling it", self.account_id)
                    return
                except MailAccount.DoesNotExist:
                    return
                except (imap.MailError, imaplib.IMAP4.error, *imap.TRANSIENT, ssl.SSLError) as error:
                    attempt += 1
                    wait = min(BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF)
                    logger.warning(
                        "mail account %s: IDLE stopped (%s); again in %.0f s", self.account_id, error, wait
                    )
                    self.stopping.wait(wait)
                finally:
                    self.idling.clear()
        finally:
            connections.close_all()

    def _watch(self) -> None:
        close_old_connections()
        account = MailAccount.objects.get(pk=self.account_id, active=True)
        conn = imap.connect(account, timeout=imap.TIMEOUT)
        try:
            _typ, data = conn.capability()  # after log-in: some servers list more then
            if b"IDLE" not in b" ".join(d for d in data if d).upper().split():
                raise NoIdle
            imap.examine(conn, FOLDER)
            # Unbuffered from here: select() on the socket must see every waiting byte.
            conn.file = conn.sock.makefile("rb", buffering=0)
            while not self.stopping.is_set():
                if self._idle_once(conn):
                    close_old_connections()
                    try:
                        self.on_new(account)
                    except Exception:  # the next announcement or the polling tries again
                        logger.exception("mail account %s: queueing a sync failed", self.account_id)
        finally:
            imap.close(conn)

    def _idle_once(self, conn: imaplib.IMAP4) -> bool:
        """One IDLE command until new mail, renewal time or stop; True when mail arrived."""
        tag = conn._new_tag()
        conn.send(tag + b" IDLE\r\n")
        line = conn._get_line()
        if not line.startswith(b"+"):
            raise NoIdle
        self.idling.set()
        deadline = time.monotonic() + self.renew
        new = False
        while not new and not self.stopping.is_set() and time.monotonic() < deadline:
            if _readable(conn, WAIT_SECONDS):
                new = _announces_new_mail(conn._get_line())
        self.idling.clear()
        conn.send(b"DONE\r\n")
        while not (line := conn._get_line()).startswith(tag):
            new = new or _announces_new_mail(line)
        if not line[len(tag) :].split()[0:1] == [b"OK"]:
            raise imap.MailError(f"IDLE ended badly: {line!r}")
        return new


def default_on_new(account: MailAccount) -> None:
    from . import jobs  # jobs imports sync: loaded only where the watchers run

    jobs.queue_sync(account)


class Supervisor(threading.Thread):
    """Keeps one watcher per active account: starts new ones, stops those of deleted, paused or
    changed accounts, restarts a watcher that ended (not one whose server has no IDLE)."""

    def __init__(self, on_new: OnNew = default_on_new, *, refresh: float = REFRESH_SECONDS) -> None:
        super().__init__(daemon=True, name="mail-idle-supervisor")
        self.on_new, self.refresh_every = on_new, refresh
        self.watchers: dict[int, Watcher] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    close_old_connections()
                    self.refresh()
                except Exception:  # a database hiccup: the next round tries again
                    logger.exception("refreshing the IMAP IDLE watchers failed")
                self.stopping.wait(self.refresh_every)
        finally:
            self.stop_watchers()
            connections.close_all()

    def refresh(self) -> None:
        wanted = {a.pk: a for a in MailAccount.objects.filter(active=True)}
        for pk, watcher in list(self.watchers.items()):
            account = wanted.get(pk)
            changed = account is None or fingerprint(account) != watcher.fingerprint
            if changed or (not watcher.is_alive() and not watcher.unsupported):
                watcher.stop()
                del self.watchers[pk]
        for pk, account in wanted.items():
            if pk not in self.watchers:
                self.watchers[pk] = Watcher(account, self.on_new)
                self.watchers[pk].start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the watchers and this thread (waiting a little for them to log out)."""
        self.stopping.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(timeout)

    def stop_watchers(self) -> None:
        for watcher in self.watchers.values():
            watcher.stop()
        for watcher in self.watchers.values():
            watcher.join(WAIT_SECONDS * 3)
        self.watchers.clear()


def start() -> Supervisor:
    supervisor = Supervisor()
    supervisor.start()
    return supervisor
