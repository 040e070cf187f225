"""A real IMAP server for the mail tests: Debian's Dovecot (package ``dovecot-imapd``), started
in the foreground on a free loopback port with a throw-away configuration, Maildir and log in a
temporary folder, and stopped afterwards. `python3 dev.py test` installs it (ensure_dovecot);
without it the IMAP tests are skipped with the reason (in CI, dev.py fails first)."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "owner@example.com"
PASSWORD = "imap-secret-9"


def available() -> bool:
    return Path(DOVECOT).exists() and not os.environ.get("SOLOCRM_SKIP_IMAP")


SKIP_REASON = (
    "no IMAP server: Dovecot is not installed (apt-get install dovecot-imapd; `dev.py test` does it) "
    "or SOLOCRM_SKIP_IMAP is set"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
mail_privileged_group =
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \\Archive
    auto = subscribe
  }}
}}
"""


@dataclass
class Dovecot:
    root: Path
    port: int
    process: subprocess.Popen
    user: str = USER
    password: str = PASSWORD

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.client()
        try:
            typ, data = conn.append(f'"{folder}"', None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def append_many(self, messages: list[bytes], folder: str = "INBOX") -> None:
        conn = self.client()
        try:
            for raw in messages:
                typ, data = conn.append(f'"{folder}"', None, None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def renumber(self, folder: str) -> None:
        """Give ``folder`` a new UIDVALIDITY with the same messages (as a server restore does):
        copy them out, delete and recreate the folder, append them back."""
        conn = self.client()
        try:
            conn.select(f'"{folder}"')
            _typ, data = conn.uid("SEARCH", None, "ALL")
            raws = []
            for uid in data[0].split():
                _typ, fetched = conn.uid("FETCH", uid, "(BODY.PEEK[])")
                raws.append(fetched[0][1])
            conn.close()
            if folder.upper() == "INBOX":
                conn.select("INBOX")
                conn.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
                conn.expunge()
                conn.close()
                for path in (self.root / "mail" / self.user).glob("dovecot*"):
                    path.unlink()  # forget the UID list: the next open gives a new UIDVALIDITY
            else:
                conn.delete(f'"{folder}"')
                conn.create(f'"{folder}"')
        finally:
            conn.logout()
        time.sleep(1.1)  # UIDVALIDITY is a timestamp: a new second gives a new one
        self.append_many(raws, folder)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start() -> Dovecot:
    # Its own folder straight under /tmp: Dovecot's unprivileged processes must reach it, and
    # pytest's tmp_path sits in folders only root may enter.
    root = Path(tempfile.mkdtemp(prefix="solocrm-dovecot-"))
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(exist_ok=True)
    if os.geteuid() == 0:
        mail_user = pwd.getpwnam("nobody")
        internal, login = "dovecot", "dovenull"
    else:
        mail_user = pwd.getpwuid(os.getuid())
        internal = login = mail_user.pw_name
    if os.geteuid() == 0:
        for sub in ("mail", "home"):
            os.chown(root / sub, mail_user.pw_uid, mail_user.pw_gid)
    root.chmod(0o755)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root, port=port, uid=mail_user.pw_uid, gid=mail_user.pw_gid, internal=internal, login=login
        )
    )
    with open(root / "stderr.log", "wb") as stderr:
        process = subprocess.Popen(
            [DOVECOT, "-c", str(config), "-F"], stdout=subprocess.DEVNULL, stderr=stderr
        )
    server = Dovecot(root, port, process)
    deadline = time.monotonic() + 20
    while True:
        try:
            server.client().logout()
            return server
        except (OSError, imaplib.IMAP4.error):
            if process.poll() is not None or time.monotonic() > deadline:
                stop(server)
                raise RuntimeError(
                    "Dovecot did not start:\n" + (root / "stderr.log").read_text() + server.log()
                ) from None
            time.sleep(0.1)


def stop(server: Dovecot) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    shutil.rmtree(server.root, ignore_errors=True)
