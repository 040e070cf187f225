"""Contacts: parse a row, match it (external id, then e-mail, then phone; in-file duplicates are
merged), and write a batch with one IN query per key, a raw multi-row INSERT for new contacts and
bulk_update for changed ones.

Update rule: the first row of a run that matches a stored contact overwrites fields whose value
differs (empty cells never blank anything); later rows of the same file matching a contact this
run already touched only fill empty fields. So a file imported twice changes nothing the second
time. A different e-mail or phone never replaces the primary one: it is added to the other
e-mails / phones."""

from __future__ import annotations

import copy
import json
import operator
import re
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from solocrm.lib.normalize import normalize_name, split_full_name
from solocrm.lib.search import search_text

from ..choices import Channel, InteractionKind, LifecycleStage
from ..identity import Person, choose_by_phone, email_key, ids_by_email, may_join_by_phone, query_in
from ..models import Company, Contact, Interaction, Tag, contact_search_text
from . import values as v
from .base import IN_CHUNK, Context, IdSet, Item, Kind, RawInserter, ids_by_text, insert_links

MAX_OTHER = 20  # other e-mails / phones kept per contact
WRITE_ATTEMPTS = 3  # a batch is matched again when a concurrent creator won an e-mail address
IMPORT_LOCK = 0x736F6C6F63726D01  # pg_advisory_xact_lock key of contact import batches

CHANNEL_SYNONYMS = {
    "seo": "organic",
    "google": "organic",
    "search": "organic",
    "自然搜索": "organic",
    "搜索": "organic",
    "word of mouth": "referral",
    "recommendation": "referral",
    "推荐": "referral",
    "转介绍": "referral",
    "口碑": "referral",
    "ads": "paid",
    "ppc": "paid",
    "adwords": "paid",
    "google ads": "paid",
    "facebook ads": "paid",
    "付费广告": "paid",
    "广告": "paid",
    "facebook": "social",
    "instagram": "social",
    "linkedin": "social",
    "twitter": "social",
    "wechat": "social",
    "微信": "social",
    "微博": "social",
    "小红书": "social",
    "抖音": "social",
    "社交媒体": "social",
    "newsletter": "email",
    "e-mail": "email",
    "邮件": "email",
    "trade fair": "event",
    "conference": "event",
    "fair": "event",
    "展会": "event",
    "活动": "event",
    "直接": "direct",
    "walk-in": "direct",
    "amazon": "marketplace",
    "etsy": "marketplace",
    "ebay": "marketplace",
    "淘宝": "marketplace",
    "天猫": "marketplace",
    "京东": "marketplace",
    "电商平台": "marketplace",
    "其他": "other",
}
STAGE_SYNONYMS = {
    "潜在客户": "lead",
    "线索": "lead",
    "意向客户": "prospect",
    "repeat customer": "repeat",
    "老客户": "repeat",
    "回头客": "repeat",
    "at risk": "at_risk",
    "流失风险": "at_risk",
    "沉睡": "dormant",
    "沉睡客户": "dormant",
    "已流失": "churned",
    "流失": "churned",
    "客户": "customer",
    "成交客户": "customer",
}
parse_channel = v.choice_parser(Channel, CHANNEL_SYNONYMS)
parse_stage = v.choice_parser(LifecycleStage, STAGE_SYNONYMS)

# Plain text columns: (field, limit). Compared and updated as they are.
TEXT_FIELDS = (
    ("external_id", 100),
    ("title", 100),
    ("street", 200),
    ("city", 100),
    ("region", 100),
    ("postal_code", 20),
    ("country", 60),
    ("source", 100),
)
SCALARS = (
    "first_name",
    "last_name",
    "title",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "birthday",
    "source",
    "channel",
    "lifecycle_stage",
    "notes",
    "external_id",
    "phone_extension",
    "photo",
)
SCALAR_SET = frozenset(SCALARS)
# The scalars around birthday (the one that needs adapting), as INSERTED lists them.
BEFORE_BIRTHDAY = operator.itemgetter(*SCALARS[: SCALARS.index("birthday")])
AFTER_BIRTHDAY = operator.itemgetter(*SCALARS[SCALARS.index("birthday") + 1 :], "email", "phone")
FETCHED = (
    "id",
    *SCALARS,
    "email",
    "phone",
    "other_emails",
    "other_phones",
    "company_id",
    "company__name",
    "email_consent",
    "custom_fields",
)
INSERTED = (
    "uuid",
    "created_at",
    "updated_at",
    *SCALARS,
    "email",
    "phone",
    "other_emails",
    "other_phones",
    "company_id",
    "email_consent",
    "email_consent_at",
    "email_consent_source",
    "custom_fields",
    "search_text",
)
# A change to one of these rewrites the contact's search text (lib.search).
SEARCHED = frozenset(
    ("first_name", "last_name", "email", "other_emails", "phone", "other_phones", "company_id")
)

COMPANY_INSERTED = (
    "uuid",
    "created_at",
    "updated_at",
    "name",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "domain",
    "phone",
    "industry",
    "notes",
    "external_id",
    "custom_fields",
    "search_text",
)


def _name(value: str) -> str:
    # Fast path: a plain ASCII word is exactly what normalize_name returns (it keeps the case).
    name = value if value.isalpha() and value.isascii() else normalize_name(value)
    if len(name) > 100:
        raise ValueError(_("longer than %(limit)d characters") % {"limit": 100})
    return name


def _company(value: str) -> str:
    return " ".join(v.text(value, 200).split())


def _text_parser(limit: int):
    def parse(value: str) -> str:
        value = value.strip()
        if len(value) > limit:
            raise ValueError(_("longer than %(limit)d characters") % {"limit": limit})
        return value

    return parse


_MANY_PHONES = re.compile(r"[,;/:]|\s\s")  # a cell that may hold several numbers
MAX_PHOTO_CHARS = 2 * 1024 * 1024  # a data: URI; vCard photos are thumbnails of a few kB


def parse_photo(value: str) -> str:
    """A picture as a data:image URI or an http(s) URL (what a vCard PHOTO or a URL column holds)."""
    value = value.strip()
    if len(value) > MAX_PHOTO_CHARS:
        raise ValueError(_("the photo is larger than %(mb)d MB") % {"mb": MAX_PHOTO_CHARS // (1024 * 1024)})
    if value.startswith("data:image/") and ";base64," in value[:60] and '"' not in value:
        return value
    if value.lower().startswith(("https://", "http://")) and not any(c in value for c in '"<> '):
        return value
    raise ValueError(_("not a picture (a data:image URI or a web address)"))


class ContactParser:
    """Row -> record dict, with the columns to read decided once per file (this loop runs once
    per row of a million-row file, so it touches only the mapped columns). Kept apart from the
    writer so preview() can use it alone.

    A cell that cannot be read is a warning, not a rejection: the field stays empty, the cell's
    text is kept in a custom field named after its column (record["raw"]) and the reasons go to
    record["warnings"]. Only a row with nothing that identifies a person or a company (no name,
    e-mail, phone or company left) is rejected."""

    def __init__(self, kind: Kind) -> None:
        self.cells = kind.cells
        self.headers, self.width = kind.cells.headers, kind.cells.width
        self.region = self.row_region = kind.ctx.region
        self.check_decoding = kind.ctx.check_decoding
        columns = kind.ctx.plan.columns
        parsers = {name: _text_parser(limit) for name, limit in TEXT_FIELDS}
        parsers.update(
            first_name=_name,
            middle_name=_name,
            last_name=_name,
            company=_company,
            birthday=self._birthday,
            channel=parse_channel,
            lifecycle_stage=parse_stage,
            email_consent=v.parse_bool,
            photo=parse_photo,
        )
        self.singles = [
            (name, tuple(columns[name]), parse) for name, parse in parsers.items() if name in columns
        ]
        self.email_columns = tuple(columns.get("email", ())) + tuple(columns.get("other_emails", ()))
        self.phone_columns = tuple(columns.get("phone", ())) + tuple(columns.get("other_phones", ()))
        self.country_columns = tuple(columns.get("country", ()))
        self.full_name_columns = tuple(columns.get("full_name", ()))
        self.tag_columns = tuple(columns.get("tags", ()))
        self.note_columns = tuple(columns.get("notes", ()))

    def parse(self, row: list[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        errors: list[tuple[str, str]] = []
        if len(row) != self.width:
            row, errors = self.cells.fit(row)
        if self.check_decoding and "\ufffd" in "".join(row):
            errors.append(("", _("contains characters that could not be decoded")))
        # Phones are read in the row's country; dates not: their order is the exporting
        # program's locale (English Outlook writes 3/5/1985 for Germans too).
        self.row_region = self._row_region(row)
        record: dict[str, Any] = {}
        warnings: list[tuple[str, str]] = []
        raw: dict[str, str] = {}
        headers = self.headers
        for name, indexes, parse in self.singles:
            for index in indexes:
                value = row[index]
                if value and not value.isspace():
                    try:
                        record[name] = parse(value)
                    except ValueError as error:
                        warnings.append((headers[index], str(error)))
                        raw[headers[index]] = value.strip()
                    break
        if self.full_name_columns or "middle_name" in record:
            self._names(row, record, warnings, raw)
        record["emails"] = self._collect(row, self.email_columns, v.email, v.emails, warnings, raw)
        record["phones"] = self._phones(row, record, warnings, raw)
        record["tags"] = self._tags(row, warnings, raw) if self.tag_columns else []
        if self.note_columns:
            self._notes(row, record, warnings)
        if errors:
            return record, errors + warnings
        if not (
            record.get("first_name")
            or record.get("last_name")
            or record["emails"]
            or record["phones"]
            or record.get("company")
        ):
            return record, [*warnings, ("", _("the row has no name, no e-mail, no phone and no company"))]
        if warnings:
            record["warnings"] = warnings
        if raw:
            record["raw"] = {header: text[: v.MAX_NOTES] for header, text in raw.items()}
        return record, []

    def _birthday(self, value: str) -> Any:
        if v.is_empty_date(value):
            return None
        return v.parse_birthday(value, self.region)

    def _row_region(self, row: list[str]) -> str:
        for index in self.country_columns:
            if index < len(row) and row[index].strip():
                return v.region_of_country(row[index]) or self.region
        return self.region

    def _names(self, row: list[str], record: dict, errors: list, raw: dict) -> None:
        if middle := record.pop("middle_name", ""):
            record["first_name"] = f"{record.get('first_name', '')} {middle}".strip()
        if not self.full_name_columns or record.get("first_name") or record.get("last_name"):
            return
        for index in self.full_name_columns:
            if full := row[index].strip():
                given, family = split_full_name(full)
                if len(given) > 100 or len(family) > 100:
                    errors.append(
                        (self.headers[index], _("longer than %(limit)d characters") % {"limit": 100})
                    )
                    raw[self.headers[index]] = full
                    continue
                record["first_name"], record["last_name"] = given, family
                return

    def _collect(
        self, row: list[str], indexes: tuple[int, ...], single, many, errors: list, raw: dict
    ) -> list[str]:
        """Addresses of all ``indexes`` in order, without repeats. Most cells hold one value:
        only the ones with a separator are split, and one bad address of a cell spares the
        others."""
        found: list[str] = []
        for index in indexes:
            value = row[index]
            if not value or value.isspace():
                continue
            parts = [value] if not ("," in value or ";" in value or ":::" in value) else _split_emails(value)
            for part in parts:
                try:
                    item = single(part)
                except ValueError as error:
                    errors.append((self.headers[index], str(error)))
                    raw[self.headers[index]] = value.strip()
                    continue
                if item not in found:
                    found.append(item)
        return found if len(found) <= MAX_OTHER + 1 else found[: MAX_OTHER + 1]

    def _phones(self, row: list[str], record: dict, errors: list, raw: dict) -> list[str]:
        """Numbers of every phone column, read in the row's own country when it names one; the
        extension of the first number is kept beside it."""
        if not self.phone_columns:
            return []
        region = self.row_region
        found: list[str] = []
        for index in self.phone_columns:
            value = row[index]
            if not value or value.isspace():
                continue
            parts = v.split_phones(value) if _MANY_PHONES.search(value) else (value,)
            for part in parts:
                try:
                    number, extension = v.phone_and_extension(part, region)
                except ValueError as error:
                    errors.append((self.headers[index], str(error)))
                    raw[self.headers[index]] = value.strip()
                    continue
                if not found and extension:
                    record["phone_extension"] = extension[: v.MAX_EXTENSION]
                if number not in found:
                    found.append(number)
        return found if len(found) <= MAX_OTHER + 1 else found[: MAX_OTHER + 1]

    def _tags(self, row: list[str], errors: list, raw: dict) -> list[str]:
        tags: list[str] = []
        for index in self.tag_columns:
            value = row[index]
            if not value or value.isspace():
                continue
            try:
                parsed = v.parse_tags(value)
            except ValueError as error:
                errors.append((self.headers[index], str(error)))
                raw[self.headers[index]] = value.strip()
                continue
            if tags:  # parse_tags already drops repeats within one cell
                known = {x.lower() for x in tags}
                tags.extend(t for t in parsed if t.lower() not in known)
            else:
                tags = parsed
        return tags

    def _notes(self, row: list[str], record: dict, errors: list) -> None:
        notes = [row[i].strip() for i in self.note_columns if row[i].strip()]
        if notes:
            text = "\n".join(notes)
            if len(text) > v.MAX_NOTES:
                errors.append(
                    (
                        self.headers[self.note_columns[0]],
                        _("longer than %(limit)d characters; the first %(limit)d are kept")
                        % {"limit": v.MAX_NOTES},
                    )
                )
                text = text[: v.MAX_NOTES]
            record["notes"] = text


def _split_emails(value: str) -> list[str]:
    return [part for part in re.split(r"\s*(?:[,;]|:::)\s*", value) if part.strip()]


class Entry:
    """A contact as it will be after this batch: stored values plus this file's changes."""

    __slots__ = ("changed", "company", "existed", "new_tags", "pk", "tag_keys", "touched", "values")

    def __init__(
        self, pk: int | None, values: dict[str, Any], company: str, tags: Iterable[str], touched: bool
    ):
        self.pk = pk
        self.values = values
        self.company = company or ""
        self.tag_keys = {t.lower() for t in tags}
        self.new_tags: list[str] = []
        self.changed: set[str] = set()
        self.touched = touched
        self.existed = pk is not None

    def absorb(
        self, record: dict[str, Any], fill_only: bool, ctx: Context, taken: frozenset[str] = frozenset()
    ) -> None:
        """Apply a row; ``fill_only`` for in-file duplicates (only empty fields are filled);
        ``taken``: e-mails another contact has, which must not become this one's primary."""
        values = self.values
        for name in SCALARS:
            new = record.get(name)
            if new is None or new == "":
                continue
            old = values.get(name)
            if old != new and (not fill_only or old is None or old == ""):
                values[name] = new
                self.changed.add(name)
        self._add_contacts(record["emails"], "email", "other_emails", taken)
        self._add_contacts(record["phones"], "phone", "other_phones")
        self._absorb_extras(record, fill_only, ctx)

    def person(self) -> Person:
        values = self.values
        emails = (values["email"], *values["other_emails"]) if values["other_emails"] else (values["email"],)
        return Person(tuple(e for e in emails if e), values["first_name"] or "", values["last_name"] or "")

    @classmethod
    def new(cls, record: dict[str, Any], ctx: Context) -> Entry:
        """A contact that does not exist yet, filled from its first row: what ``absorb`` on an
        empty contact gives, in fewer steps (this runs for every new row of a big import)."""
        values = NEW_CONTACT.copy()
        values["lifecycle_stage"] = ctx.stage  # the row's own stage, if any, replaces it below
        for name, new in record.items():
            if new and name in SCALAR_SET:
                values[name] = new
        emails, numbers = record["emails"], record["phones"]
        if emails:
            values["email"], values["other_emails"] = emails[0], emails[1:]
        if numbers:
            values["phone"], values["other_phones"] = numbers[0], numbers[1:]
        entry = cls(None, values, "", (), True)
        get = record.get
        if get("company") or record["tags"] or get("email_consent") or get("birthday_no_year") or get("raw"):
            entry._absorb_extras(record, False, ctx)  # otherwise it would change nothing
        return entry

    def _add_contacts(
        self, items: list[str], primary: str, others: str, taken: frozenset[str] = frozenset()
    ) -> None:
        values = self.values
        for item in items:
            if item == values[primary] or item in values[others]:
                continue
            if not values[primary] and item not in taken:
                values[primary] = item
                self.changed.add(primary)
            elif len(values[others]) < MAX_OTHER:
                values[others] = [*values[others], item]
                self.changed.add(others)

    def _absorb_extras(self, record: dict[str, Any], fill_only: bool, ctx: Context) -> None:
        company = record.get("company", "")
        if company and company.lower() != self.company.lower() and not (fill_only and self.company):
            self.company = company
            self.changed.add("company_id")
        for tag in record["tags"]:
            if tag.lower() not in self.tag_keys:
                self.tag_keys.add(tag.lower())
                self.new_tags.append(tag)
                self.changed.add("tags")
        if record.get("email_consent") and not self.values["email_consent"]:
            self.values.update(
                email_consent=True,
                email_consent_at=ctx.now,
                email_consent_source=f"import: {ctx.source_name}"[:200],
            )
            self.changed.update(("email_consent", "email_consent_at", "email_consent_source"))
        day_month = record.get("birthday_no_year")
        custom = self.values["custom_fields"]
        if day_month and custom.get("birthday") != day_month and not (fill_only and custom.get("birthday")):
            self.values["custom_fields"] = custom = {**custom, "birthday": day_month}
            self.changed.add("custom_fields")
        # The text of cells that could not be read, under their column's name: never lost.
        kept = {k: text for k, text in record.get("raw", {}).items() if custom.get(k) != text}
        if kept and not (fill_only and all(custom.get(k) for k in kept)):
            self.values["custom_fields"] = {**custom, **kept}
            self.changed.add("custom_fields")


NEW_CONTACT: dict[str, Any] = {
    **dict.fromkeys(SCALARS, ""),
    "birthday": None,
    "lifecycle_stage": LifecycleStage.LEAD.value,
    "email": "",
    "phone": "",
    # Shared empty containers are safe: Entry replaces lists and dicts, it never mutates them.
    "other_emails": [],
    "other_phones": [],
    "email_consent": False,
    "email_consent_at": None,
    "email_consent_source": "",
    "custom_fields": {},
}


class ContactsKind(Kind):
    name = "contacts"
    analysed_models = (Contact, Contact.tags.through)
    id_caches = ("tag_ids", "company_ids")
    required = ("full_name", "first_name", "last_name", "email", "phone", "other_emails", "other_phones")

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.parser = ContactParser(self)
        self.created = IdSet()  # contacts this run created
        self.seen = IdSet()  # contacts this run created, updated or matched
        self.noted = IdSet()  # stored contacts that already got an "updated by import" entry
        self.inserter = RawInserter(Contact, list(INSERTED))
        self.tag_ids: dict[str, int] = {}
        self.company_ids: dict[str, int] = {}
        self.company_inserter: RawInserter | None = None

    def parse(self, row: list[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        record, errors = self.parser.parse(row)
        birthday = record.get("birthday")
        if isinstance(birthday, tuple):
            record["birthday"], record["birthday_no_year"] = birthday
        return record, errors

    # ------------------------------------------------------------------ matching

    def write(self, batch: list[Item]) -> None:
        """Match and write one batch. On PostgreSQL, import batches take turns (an advisory
        lock held until the batch commits), so two imports of one file cannot both create a
        person; a creator outside imports (the API, a form) that wins a race for an e-mail
        address makes the unique index refuse our insert, and the batch is matched again,
        this time joining that contact."""
        self._take_turn()
        for attempt in range(WRITE_ATTEMPTS):
            saved = self._snapshot()
            try:
                with transaction.atomic():
                    self._write(batch)
                return
            except IntegrityError:
                self._restore(saved)
                if attempt + 1 == WRITE_ATTEMPTS:
                    raise

    def _take_turn(self) -> None:
        connection = self.inserter.connection
        if connection.vendor == "postgresql":  # SQLite's IMMEDIATE transactions already take turns
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])

    def _snapshot(self) -> tuple:
        r = self.ctx.report
        counts = (r.created, r.updated, r.unchanged, r.merged)
        sets = copy.deepcopy((self.created, self.seen, self.noted))
        return counts, sets, dict(self.tag_ids), dict(self.company_ids)

    def _restore(self, saved: tuple) -> None:
        counts, sets, self.tag_ids, self.company_ids = saved
        r = self.ctx.report
        r.created, r.updated, r.unchanged, r.merged = counts
        self.created, self.seen, self.noted = sets

    def _write(self, batch: list[Item]) -> None:
        for item in batch:
            _normalise_emails(item.record)
        stored = self._fetch(batch)
        local: dict[tuple[str, str], Entry] = {}
        by_phone: dict[str, dict[int, Entry]] = {}  # phone -> {id(entry): entry}, in file order
        entries: dict[int, Entry] = {}
        pending: list[Entry] = []
        report, ctx = self.ctx.report, self.ctx
        for item in batch:
            record = item.record
            keys = _keys(record)
            entry = self._find(record, keys, local, by_phone, stored, entries)
            if entry is None:
                entry = Entry.new(record, ctx)
                pending.append(entry)
                report.created += 1
            else:
                taken = _taken_by_others(entry, record, local, stored)
                if entry.touched:
                    entry.absorb(record, True, ctx, taken)
                    report.merged += 1
                else:
                    entry.absorb(record, False, ctx, taken)
                    entry.touched = True
                    if entry.changed:
                        report.updated += 1
                    else:
                        report.unchanged += 1
            for key in keys:
                local.setdefault(key, entry)
            for number in record["phones"]:
                by_phone.setdefault(number, {})[id(entry)] = entry
        self._save(pending, [e for e in entries.values() if e.changed])
        for pk in entries:  # matched, changed or not: later batches only fill its empty fields
            self.seen.add(pk)

    def _find(
        self,
        record: dict[str, Any],
        keys: list[tuple[str, str]],
        local: dict,
        by_phone: dict[str, dict[int, Entry]],
        stored: Stored,
        entries: dict[int, Entry],
    ) -> Entry | None:
        """The contact a row is, by the identity rules (contacts/identity.py): the same external
        id or e-mail joins at once; a shared phone only when nothing says it is someone else."""
        for key in keys:
            if key in local:
                return local[key]
            pk = stored.strong.get(key)
            if pk is not None:
                return self._entry(pk, stored, entries)
        if not record["phones"]:
            return None
        # A row with an e-mail that matched nobody's can only be someone without one: skip the
        # rest cheaply (an office switchboard has dozens of sharers with their own addresses).
        mailed = bool(record["emails"])
        old: dict[int, tuple[Any, Person]] = {}  # stored contacts, by id
        new: dict[int, tuple[Any, Person]] = {}  # contacts this batch creates, in file order
        for number in record["phones"]:
            for entry in by_phone.get(number, {}).values():
                if mailed and (entry.values["email"] or entry.values["other_emails"]):
                    continue
                if entry.pk:
                    old.setdefault(entry.pk, (entry, entry.person()))
                else:
                    new.setdefault(id(entry), (entry, entry.person()))
            for pk in stored.phones.get(number, ()):
                if pk in old:
                    continue
                entry = entries.get(pk)
                if entry is not None:
                    if not (mailed and (entry.values["email"] or entry.values["other_emails"])):
                        old[pk] = (entry, entry.person())
                elif not (mailed and stored.people[pk].emails):
                    old[pk] = (pk, stored.people[pk])
        if not old and not new:
            return None
        known = [old[pk] for pk in sorted(old)] + list(new.values())  # oldest first
        chosen = choose_by_phone(_person(record), known)
        if chosen is None or isinstance(chosen, Entry):
            return chosen
        return self._entry(chosen, stored, entries)

    def _entry(self, pk: int, stored: Stored, entries: dict[int, Entry]) -> Entry:
        entry = entries.get(pk)
        if entry is None:
            values = dict(stored.rows[pk])
            del values["id"]
            company = values.pop("company__name") or ""
            entry = entries[pk] = Entry(pk, values, company, stored.tags.get(pk, ()), pk in self.seen)
        return entry

    def _fetch(self, batch: list[Item]) -> Stored:
        """Stored contacts the batch may join: (value, id) pairs with one cheap raw query per kind
        of key, the people sharing a phone with rows nothing stronger matched, then the full rows
        of the contacts a row may join only (none at all for a batch of new people)."""
        ext, mails = set(), set()
        for item in batch:
            record = item.record
            if record.get("external_id"):
                ext.add(record["external_id"])
            mails.update(record["emails"])
        stored = Stored()
        strong = stored.strong
        for value, pk in ids_by_text(Contact, "external_id", ext):  # ordered by id: the oldest wins
            strong.setdefault(("x", value), pk)
        for value, pk in ids_by_email(mails):
            strong.setdefault(("e", value), pk)
        ids = set(strong.values())
        weak = [
            item.record for item in batch if item.record["phones"] and not _has_strong(item.record, strong)
        ]
        if weak:
            self._phone_sharers(weak, stored)
            for record in weak:
                newcomer = _person(record)
                for number in record["phones"]:
                    for pk in stored.phones.get(number, ()):
                        if pk not in ids and may_join_by_phone(newcomer, stored.people[pk]):
                            ids.add(pk)
        stored.rows = self._stored_rows(ids)
        stored.tags = self._stored_tags(ids) if ids and any(i.record["tags"] for i in batch) else {}
        return stored

    def _phone_sharers(self, records: list[dict[str, Any]], stored: Stored) -> None:
        """Stored contacts whose phone is one of these rows'. A row with an e-mail can only join
        a contact without one, so only those are read for it: a switchboard number shared by
        thousands of known people costs nothing for the rows that bring their own address."""
        anyone, mailless = set(), set()
        for record in records:
            (mailless if record["emails"] else anyone).update(record["phones"])
        mailless -= anyone
        connection = self.inserter.connection
        head = "SELECT phone, id, email, other_emails, first_name, last_name FROM contacts_contact WHERE "
        found = query_in(connection, head + "phone {IN}", sorted(anyone)) if anyone else []
        if mailless:
            found += query_in(connection, head + "email = '' AND phone {IN}", sorted(mailless))
        found.sort(key=operator.itemgetter(1))
        for number, pk, email, others, first, last in found:
            if isinstance(others, str):
                others = json.loads(others) if others != "[]" else ()
            emails = tuple(e for e in (email, *(others or ())) if e)
            stored.people[pk] = Person(emails, first, last)
            stored.phones.setdefault(number, []).append(pk)

    def _stored_rows(self, ids: set[int]) -> dict[int, dict[str, Any]]:
        """The FETCHED values of ``ids``: on PostgreSQL as one array parameter (psycopg binds
        thousands of parameters slowly), on SQLite in chunks below its parameter limit."""
        wanted = sorted(ids)
        if self.inserter.connection.vendor == "postgresql":
            chunks = [RawSQL("SELECT unnest(%s::bigint[])", [wanted])] if wanted else []
        else:
            chunks = [wanted[start : start + IN_CHUNK] for start in range(0, len(wanted), IN_CHUNK)]
        rows: dict[int, dict[str, Any]] = {}
        for chunk in chunks:
            for row in Contact.objects.filter(id__in=chunk).values(*FETCHED):
                rows[row["id"]] = row
        return rows

    def _stored_tags(self, ids: set[int]) -> dict[int, list[str]]:
        tags: dict[int, list[str]] = {}
        links = Contact.tags.through.objects.filter(contact_id__in=ids).values_list("contact_id", "tag__name")
        for contact_id, name in links:
            tags.setdefault(contact_id, []).append(name)
        return tags

    # ------------------------------------------------------------------ writing

    def _save(self, pending: list[Entry], changed: list[Entry]) -> None:
        everyone = pending + changed
        self._resolve_companies(e.company for e in everyone if "company_id" in e.changed)
        for entry in everyone:
            if "company_id" in entry.changed:
                entry.values["company_id"] = self.company_ids[entry.company.lower()]
        if pending:
            self._insert(pending)
        if changed:
            self._update(changed)
        self._link_tags(everyone)
        self._note_updates(changed)

    def _insert(self, pending: list[Entry]) -> None:
        ins = self.inserter
        now = ins.prep("created_at", self.ctx.now)
        empty_list, empty_dict = ins.prep("other_emails", []), ins.prep("custom_fields", {})
        date_prep = ins.connection.ops.adapt_datefield_value
        json_prep = ins.fields[INSERTED.index("other_emails")].get_db_prep_save
        rows, keys = [], []
        before, after = BEFORE_BIRTHDAY, AFTER_BIRTHDAY
        for entry, key in zip(pending, ins.new_uuids(len(pending)), strict=True):
            values = entry.values
            keys.append(key)
            consent_at = values["email_consent_at"]
            birthday = values["birthday"]
            rows.append(
                (
                    key,
                    now,
                    now,
                    *before(values),
                    date_prep(birthday) if birthday is not None else None,
                    *after(values),
                    json_prep(values["other_emails"], ins.connection)
                    if values["other_emails"]
                    else empty_list,
                    json_prep(values["other_phones"], ins.connection)
                    if values["other_phones"]
                    else empty_list,
                    values.get("company_id"),
                    values["email_consent"],
                    now if consent_at else None,
                    values["email_consent_source"],
                    json_prep(values["custom_fields"], ins.connection)
                    if values["custom_fields"]
                    else empty_dict,
                    _search_text(entry),
                )
            )
        ids = ins.insert(rows)
        for entry, key in zip(pending, keys, strict=True):
            entry.pk = ids[key]
            self.created.add(entry.pk)
            self.seen.add(entry.pk)

    def _update(self, changed: list[Entry]) -> None:
        fields = sorted({name for entry in changed for name in entry.changed} - {"tags"} | {"updated_at"})
        searched = not SEARCHED.isdisjoint(fields)
        objects = []
        for entry in changed:
            contact = Contact(pk=entry.pk, updated_at=self.ctx.now)
            for name in fields:
                if name != "updated_at":
                    setattr(contact, name, entry.values.get(name))
            if searched:
                contact.search_text = _search_text(entry)
            objects.append(contact)
        if searched:
            fields.append("search_text")
            self.seen.add(entry.pk)
        if fields != ["updated_at"]:
            Contact.objects.bulk_update(objects, fields)

    def _resolve_companies(self, names: Iterable[str]) -> None:
        wanted = {name.lower(): name for name in names if name.lower() not in self.company_ids}
        if not wanted:
            return
        found = Company.objects.annotate(key=Lower("name")).filter(key__in=wanted).order_by("id")
        for key, pk in found.values_list("key", "id"):
            self.company_ids.setdefault(key, pk)
        missing = [name for key, name in wanted.items() if key not in self.company_ids]
        if missing:
            self._insert_companies(missing)

    def _insert_companies(self, names: list[str]) -> None:
        """New companies by the raw inserter: a realistic file names thousands of companies, and
        the ORM's bulk_create prepared each one field by field (a second per 3,000)."""
        if self.company_inserter is None:
            self.company_inserter = RawInserter(Company, list(COMPANY_INSERTED))
        ins = self.company_inserter
        now = ins.prep("created_at", self.ctx.now)
        empty = ins.prep("custom_fields", {})
        blanks = ("",) * (len(COMPANY_INSERTED) - 6)  # street … external_id
        keys = ins.new_uuids(len(names))
        ids = ins.insert(
            [
                (key, now, now, name, *blanks, empty, search_text(name))
                for key, name in zip(keys, names, strict=True)
            ]
        )
        for key, name in zip(keys, names, strict=True):
            self.company_ids[name.lower()] = ids[key]

    def _link_tags(self, entries: list[Entry]) -> None:
        names = {t.lower(): t for e in entries for t in e.new_tags}
        if not names:
            return
        resolve_tags(names, self.tag_ids)
        links = [(e.pk, self.tag_ids[t.lower()]) for e in entries for t in e.new_tags]
        insert_links(Contact.tags.through, ("contact_id", "tag_id"), links)

    def _note_updates(self, changed: list[Entry]) -> None:
        """One timeline entry per stored contact that this import changed (not per row)."""
        subject = _("Updated by import of %(file)s") % {"file": self.ctx.source_name}
        notes = []
        for entry in changed:
            if entry.existed and entry.pk not in self.created and entry.pk not in self.noted:
                self.noted.add(entry.pk)
                notes.append(
                    Interaction(
                        kind=InteractionKind.SYSTEM,
                        contact_id=entry.pk,
                        company_id=entry.values.get("company_id"),
                        occurred_at=self.ctx.now,
                        subject=subject[:300],
                        author=self.ctx.author,
                        data={"import": self.ctx.source_name, "fields": sorted(entry.changed)},
                    )
                )
        Interaction.objects.bulk_create(notes)


def _search_text(entry: Entry) -> str:
    values = entry.values
    return contact_search_text(
        values["first_name"],
        values["last_name"],
        values["email"],
        values["other_emails"],
        values["phone"],
        values["other_phones"],
        entry.company,
    )


def resolve_tags(names: dict[str, str], cache: dict[str, int]) -> None:
    """Fill ``cache`` (lower-case name -> id) for ``names``, creating missing tags in bulk."""
    wanted = {key: name for key, name in names.items() if key not in cache}
    if not wanted:
        return
    query = Tag.objects.annotate(key=Lower("name")).filter(key__in=wanted)
    cache.update(query.values_list("key", "id"))
    missing = [Tag(name=name) for key, name in wanted.items() if key not in cache]
    if missing:
        # ignore_conflicts: another import may create the same tag at the same time
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        cache.update(query.values_list("key", "id"))


def _keys(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The keys that join a row to a contact at once: external id and e-mails (never a phone)."""
    keys = [("x", record["external_id"])] if record.get("external_id") else []
    keys += [("e", mail) for mail in record["emails"]]
    return keys


def _has_strong(record: dict[str, Any], strong: dict) -> bool:
    return any(key in strong for key in _keys(record))


def _person(record: dict[str, Any]) -> Person:
    return Person(tuple(record["emails"]), record.get("first_name", ""), record.get("last_name", ""))


def _normalise_emails(record: dict[str, Any]) -> None:
    """E-mails in their identity form (contacts/identity.email_key): stored, compared and kept
    unique by the database in that form."""
    emails = record["emails"]
    if emails:
        keys = [email_key(e) for e in emails]
        if keys != emails:
            record["emails"] = list(dict.fromkeys(keys))


def _taken_by_others(entry: Entry, record: dict[str, Any], local: dict, stored: Stored) -> frozenset[str]:
    """The row's e-mails that belong to another contact: joined by its external id or another
    address, the row may add them to ``entry``'s other e-mails, never make one its primary (the
    address stays unique, and the pair shows on the duplicates page)."""
    taken = set()
    for mail in record["emails"]:
        owner = local.get(("e", mail))
        if owner is not None and owner is not entry:
            taken.add(mail)
            continue
        pk = stored.strong.get(("e", mail))
        if pk is not None and pk != entry.pk:
            taken.add(mail)
    return frozenset(taken)


class Stored:
    """What the database already knows that one batch may join."""

    __slots__ = ("people", "phones", "rows", "strong", "tags")

    def __init__(self) -> None:
        self.strong: dict[tuple[str, str], int] = {}  # ("x"|"e", value) -> oldest contact id
        self.phones: dict[str, list[int]] = {}  # phone -> ids of contacts with it, oldest first
        self.people: dict[int, Person] = {}  # what the identity rules need of those contacts
        self.rows: dict[int, dict[str, Any]] = {}  # FETCHED values of contacts a row may join
        self.tags: dict[int, list[str]] = {}
