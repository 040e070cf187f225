"""solocrm mail sync [--account NAME] [--json] | solocrm mail accounts list|add|test
| solocrm mail send --to EMAIL|UUID --subject … --body-file F [--template NAME] [--at ISO]

Sync mailboxes in the foreground (recorded as background jobs, so the job page shows them) and
manage mail accounts. A password is read from the terminal without echo, or from the first
line of standard input when it is not a terminal (never from the command line)."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.jobs.services import JobBusy
from solocrm.mail import cli_send, jobs, services, sync
from solocrm.mail.models import MailAccount, Security


class Command(BaseCommand):
    help = _(
        "E-mail: `mail sync` reads the mailboxes, `mail accounts` lists, adds and tests accounts, "
        "`mail send` writes to a contact."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("sync", help=_("Read new mail of every active account (or one)."))
        run.add_argument("--account", help=_("Only this account (its name)."))
        run.add_argument("--json", action="store_true", help=_("Print the result as JSON."))
        accounts = sub.add_parser("accounts", help=_("List, add or test mail accounts."))
        what = accounts.add_subparsers(dest="accounts_action", required=True)
        what.add_parser("list", help=_("Show the mail accounts."))
        add = what.add_parser("add", help=_("Add a mail account (asks for the IMAP password)."))
        add.add_argument("--name", required=True)
        add.add_argument("--email", required=True)
        add.add_argument("--imap-host", required=True)
        add.add_argument("--imap-port", type=int, default=993)
        add.add_argument("--imap-security", choices=list(Security.values), default=Security.SSL)
        add.add_argument("--imap-user", help=_("Default: the e-mail address."))
        add.add_argument("--folders", help=_("Comma-separated; default: the inbox and the Sent folder."))
        add.add_argument("--support", action="store_true", help=_("The support mailbox."))
        add.add_argument(
            "--create-contacts", action="store_true", help=_("Create contacts from new senders.")
        )
        test = what.add_parser("test", help=_("Log in and list the folders that would be read."))
        test.add_argument("name")
        cli_send.add_arguments(sub)

    def handle(self, *args, action: str, **options) -> None:
        if action == "sync":
            self.sync(options)
        elif action == "send":
            cli_send.run(options, self.stdout.write)
        else:
            {"list": self.list, "add": self.add, "test": self.test}[options["accounts_action"]](options)

    # -- sync ---------------------------------------------------------------------------------

    def sync(self, options: dict[str, Any]) -> None:
        accounts = MailAccount.objects.filter(active=True)
        if options["account"]:
            accounts = MailAccount.objects.filter(name=options["account"])
            if not accounts.exists():
                raise CommandError(_("There is no mail account “%(name)s”.") % {"name": options["account"]})
        accounts = list(accounts)
        if not accounts:
            raise CommandError(_("No mail account yet: add one with `solocrm mail accounts add`."))
        fancy = not options["json"] and self.stdout.isatty()
        failed = False
        for account in accounts:
            try:
                job = self._with_progress(account) if fancy else jobs.run_here(account)
            except (sync.SyncError, JobBusy) as error:
                failed = True
                self.stderr.write(_("%(name)s: %(error)s") % {"name": account.name, "error": error})
                continue
            if options["json"]:
                self.stdout.write(json.dumps(job.result, ensure_ascii=False))
            else:
                self.stdout.write(f"{account.name}: {job.message}")
        if failed:
            raise CommandError(_("Some accounts could not be synced."))

    def _with_progress(self, account: MailAccount):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(file=self.stdout._out)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(account.name, total=None)

            def progress(step: str, done: int, total: int | None) -> None:
                bar.update(task, description=f"{account.name}: {step}", completed=done, total=total or None)

            return jobs.run_here(account, progress)

    # -- accounts -----------------------------------------------------------------------------

    def list(self, options: dict[str, Any]) -> None:
        accounts = list(MailAccount.objects.order_by("name"))
        if not accounts:
            self.stdout.write(_("No mail account yet."))
            return
        for account in accounts:
            flags = [
                flag
                for flag, on in [
                    (_("support"), account.is_support),
                    (_("creates contacts"), account.create_contacts_from_new_senders),
                    (_("paused"), not account.active),
                ]
                if on
            ]
            synced = (
                timezone.localtime(account.last_sync_at).strftime("%Y-%m-%d %H:%M")
                if account.last_sync_at
                else _("never")
            )
            line = f"{account.name}\t{account.email}\t{account.imap_host}:{account.imap_port}\t"
            line += _("last sync: %(when)s") % {"when": synced}
            if flags:
                line += "\t" + ", ".join(flags)
            if account.last_error:
                line += "\t" + _("error: %(error)s") % {"error": account.last_error}
            self.stdout.write(line)

    def _password(self) -> str:
        if sys.stdin.isatty():
            return getpass.getpass(_("IMAP password: "))
        return sys.stdin.readline().rstrip("\r\n")

    def add(self, options: dict[str, Any]) -> None:
        folders = [f.strip() for f in (options["folders"] or "").split(",") if f.strip()]
        data = {
            "name": options["name"],
            "email": options["email"],
            "imap_host": options["imap_host"],
            "imap_port": options["imap_port"],
            "imap_security": options["imap_security"],
            "imap_user": options["imap_user"] or options["email"],
            "imap_password": self._password(),
            "folders": folders,
            "is_support": options["support"],
            "create_contacts_from_new_senders": options["create_contacts"],
        }
        try:
            account = services.create_account(data)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(_("Mail account “%(name)s” added.") % {"name": account.name})

    def test(self, options: dict[str, Any]) -> None:
        account = MailAccount.objects.filter(name=options["name"]).first()
        if account is None:
            raise CommandError(_("There is no mail account “%(name)s”.") % {"name": options["name"]})
        result = services.test_imap(account)
        if not result.ok:
            raise CommandError(result.message)
        self.stdout.write(result.message)
