"""Interactions (timeline entries: calls, e-mails, meetings, notes) for existing contacts.

Each row must name its contact by e-mail, phone or the contact's external id; a row whose contact
is unknown is rejected (an interaction is never imported without its person). A row is the same
interaction again when it has the same external id, or, without one, the same contact, moment,
kind and subject."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from ..choices import InteractionKind
from ..models import Contact, Interaction
from . import values as v
from .base import Context, Item, Kind, parse_into

KIND_SYNONYMS = {
    "email": "email_out",
    "e-mail": "email_out",
    "mail": "email_out",
    "email sent": "email_out",
    "email received": "email_in",
    "inbound email": "email_in",
    "phone": "call",
    "phone call": "call",
    "电话": "call",
    "通话": "call",
    "meeting": "meeting",
    "会议": "meeting",
    "拜访": "meeting",
    "chat": "chat",
    "聊天": "chat",
    "微信": "chat",
    "whatsapp": "chat",
    "note": "note",
    "备注": "note",
    "笔记": "note",
    "form": "form",
    "表单": "form",
    "social": "social",
    "社交": "social",
}
parse_kind = v.choice_parser(InteractionKind, KIND_SYNONYMS)


class InteractionsKind(Kind):
    name = "interactions"
    analysed_models = (Interaction,)
    required = ("occurred_at",)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        if not ctx.plan.mapped("email", "phone", "contact_id"):
            from .report import ImportFileError

            raise ImportFileError(_("No column names the contact (e-mail, phone or contact id)."))

    def parse(self, row: list[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        row, errors = self.cells.fit(row)
        record: dict[str, Any] = {}
        first, region = self.cells.first, self.ctx.region
        parse_into(record, errors, "external_id", first(row, "external_id"), lambda s: v.text(s, 100))
        parse_into(
            record,
            errors,
            "occurred_at",
            first(row, "occurred_at"),
            lambda s: v.parse_datetime(s, region=region),
        )
        parse_into(record, errors, "kind", first(row, "kind"), parse_kind)
        parse_into(record, errors, "subject", first(row, "subject"), lambda s: v.text(s, 300))
        body = "\n".join(value.strip() for _h, value in self.cells.all(row, "body"))
        parse_into(record, errors, "body", ("", body), lambda s: v.text(s, v.MAX_NOTES))
        parse_into(record, errors, "email", first(row, "email"), v.email)
        parse_into(record, errors, "phone", first(row, "phone"), lambda s: v.phone(s, region))
        parse_into(record, errors, "contact_id", first(row, "contact_id"), lambda s: v.text(s, 100))
        if not errors and "occurred_at" not in record:
            errors.append(("", _("the row has no date")))
        if not errors and not ({"email", "phone", "contact_id"} & record.keys()):
            errors.append(("", _("the row names no contact (e-mail, phone or contact id)")))
        return record, errors

    def write(self, batch: list[Item]) -> None:
        contacts = self._contacts(batch)
        wanted = [i for i in batch if self._link(i, contacts)]
        existing = self._existing(wanted)
        seen: set[Any] = set()
        new = []
        for item in wanted:
            record = item.record
            key = _identity(record)
            if key in seen:
                self.ctx.report.merged += 1
            elif key in existing:
                self.ctx.report.unchanged += 1
            else:
                new.append(_interaction(record, self.ctx))
                self.ctx.report.created += 1
            seen.add(key)
        Interaction.objects.bulk_create(new)

    def _link(self, item: Item, contacts: dict[tuple[str, str], tuple[int, int | None]]) -> bool:
        record = item.record
        for key in (("x", record.get("contact_id")), ("e", record.get("email")), ("p", record.get("phone"))):
            if key in contacts:
                record["contact"], record["company"] = contacts[key]
                return True
        self.ctx.reject(item.line, item.cells, [("", _("no contact with this e-mail, phone or id"))])
        return False

    def _contacts(self, batch: list[Item]) -> dict[tuple[str, str], tuple[int, int | None]]:
        found: dict[tuple[str, str], tuple[int, int | None]] = {}
        for prefix, column, field in (
            ("x", "external_id", "contact_id"),
            ("e", "email", "email"),
            ("p", "phone", "phone"),
        ):
            wanted = {i.record[field] for i in batch if i.record.get(field)}
            if wanted:
                rows = Contact.objects.filter(**{f"{column}__in": wanted}).order_by("-id")
                for pk, company, value in rows.values_list("id", "company_id", column):
                    found[(prefix, value)] = (pk, company)
        return found

    def _existing(self, items: list[Item]) -> set[Any]:
        """Identities of interactions already stored: one query by external id, one by contact."""
        ext = {i.record["external_id"] for i in items if i.record.get("external_id")}
        contacts = {i.record["contact"] for i in items if not i.record.get("external_id")}
        found: set[Any] = set()
        if ext:
            found.update(
                ("x", e)
                for e in Interaction.objects.filter(external_id__in=ext).values_list("external_id", flat=True)
            )
        if contacts:
            rows = Interaction.objects.filter(contact_id__in=contacts, external_id="")
            found.update(
                ("c", *row) for row in rows.values_list("contact_id", "occurred_at", "kind", "subject")
            )
        return found


def _identity(record: dict[str, Any]) -> tuple:
    if record.get("external_id"):
        return ("x", record["external_id"])
    kind = record.get("kind", InteractionKind.NOTE.value)
    return ("c", record["contact"], record["occurred_at"], kind, record.get("subject", ""))


def _interaction(record: dict[str, Any], ctx: Context) -> Interaction:
    return Interaction(
        kind=record.get("kind", InteractionKind.NOTE),
        occurred_at=record["occurred_at"],
        subject=record.get("subject", ""),
        body=record.get("body", ""),
        contact_id=record["contact"],
        company_id=record["company"],
        author=ctx.author,
        external_id=record.get("external_id", ""),
        data={"import": ctx.source_name},
    )
