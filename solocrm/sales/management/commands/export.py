"""`solocrm export contacts|orders`: write a filtered list as CSV, JSON, JSON Lines or vCard.

Contacts' custom fields are one CSV column each ("custom:<key>"), an object in JSON.

The filter options are generated from the same FilterSchema the web list and the API use, so
a filter added there appears here too. Rows are streamed from the database in chunks and
written as they come, so memory stays flat however large the export. Exit codes: 0 done,
1 bad options (an unknown stage, a bad date…), 2 usage error.
"""

from __future__ import annotations

import argparse
import csv
import enum
import io
import json
import os
import re
import sys
import types
import typing
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import pydantic
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _
from ninja import FilterSchema

from solocrm.contacts.filters import ContactFilter
from solocrm.contacts.models import Contact
from solocrm.lib.spreadsheet import LIST_SEPARATOR, csv_cell

CHUNK = 2000
FORMATS = ("csv", "json", "jsonl", "vcard")
OWN_OPTIONS = {"format", "output", "excel", "help", "settings", "pythonpath", "traceback", "verbosity"}

CONTACT_COLUMNS = [
    "uuid", "first_name", "last_name", "email", "other_emails", "phone", "phone_extension", "other_phones",
    "company", "title",
    "birthday", "source", "channel", "lifecycle_stage", "tags", "email_consent", "email_consent_at",
    "email_consent_source", "street", "city", "region", "postal_code", "country", "notes", "external_id",
    "created_at", "updated_at",
]  # fmt: skip
ORDER_COLUMNS = [
    "uuid", "number", "external_id", "source", "status", "channel", "currency", "total", "ordered_at",
    "contact_uuid", "contact_name", "email", "line_count", "lines", "notes", "created_at",
]  # fmt: skip


# -- the kinds of list --------------------------------------------------------------------------


def order_filter() -> type[FilterSchema] | None:
    """The orders filter lives in the sales app; without it only contacts can be exported."""
    try:
        from solocrm.sales.orders.filters import OrderFilter
    except ImportError:
        return None
    return OrderFilter


CUSTOM_PREFIX = "custom:"


def custom_field_keys(filters: FilterSchema) -> list[str]:
    """Every custom field key of the contacts the filters select, by name: CSV has one column
    per key ("custom:Shoe size"), so they are collected in a first pass (keys only, streamed)."""
    keys: set[str] = set()
    qs = filters.apply(Contact.objects.all()).exclude(custom_fields={}).order_by()
    for custom in qs.values_list("custom_fields", flat=True).iterator(chunk_size=CHUNK):
        if isinstance(custom, dict):
            keys.update(custom)
    return sorted(keys, key=lambda key: (key.casefold(), key))


def flat_custom_fields(records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """CSV: each custom field in a column of its own instead of one JSON cell."""
    for record in records:
        custom = record.get("custom_fields") or {}
        yield {**record, **{CUSTOM_PREFIX + key: value for key, value in custom.items()}}


def contact_rows(filters: FilterSchema) -> Iterator[Contact]:
    qs = filters.apply(Contact.objects.select_related("company").prefetch_related("tags"))
    return qs.iterator(chunk_size=CHUNK)


def order_rows(filters: FilterSchema) -> Iterator[Any]:
    from solocrm.sales.models import Order

    qs = filters.apply(Order.objects.select_related("contact").prefetch_related("lines"))
    return qs.iterator(chunk_size=CHUNK)


def contact_record(contact: Contact) -> dict[str, Any]:
    """A contact as plain data: the model's field names, so the importer recognises every column."""
    return {
        "uuid": str(contact.uuid),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "other_emails": list(contact.other_emails or []),
        "phone": contact.phone,
        "phone_extension": contact.phone_extension,
        "other_phones": list(contact.other_phones or []),
        "company": contact.company.name if contact.company else "",
        "title": contact.title,
        "birthday": contact.birthday,
        "source": contact.source,
        "channel": contact.channel,
        "lifecycle_stage": contact.lifecycle_stage,
        "tags": sorted(t.name for t in contact.tags.all()),
        "email_consent": contact.email_consent,
        "email_consent_at": contact.email_consent_at,
        "email_consent_source": contact.email_consent_source,
        **{f: getattr(contact, f) for f in ("street", "city", "region", "postal_code", "country")},
        "notes": contact.notes,
        "external_id": contact.external_id,
        "custom_fields": contact.custom_fields or {},
        "photo": contact.photo_src,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def plain_quantity(quantity: Decimal) -> Decimal:
    """3.000 -> 3, 2.500 -> 2.5: the field keeps three places, people write none."""
    if quantity == quantity.to_integral_value():
        return quantity.quantize(Decimal(1))
    return quantity.normalize()


def order_record(order: Any) -> dict[str, Any]:
    contact = order.contact
    return {
        "uuid": str(order.uuid),
        "number": order.number,
        "external_id": order.external_id,
        "source": order.source,
        "status": order.status,
        "channel": order.channel,
        "currency": order.currency,
        "total": order.total,
        "ordered_at": order.ordered_at,
        "contact_uuid": str(contact.uuid) if contact else "",
        "contact_name": contact.full_name if contact else "",
        "email": contact.email if contact else "",
        "notes": order.notes,
        "created_at": order.created_at,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": plain_quantity(line.quantity),
                "unit_price": line.unit_price,
                "total": line.total,
            }
            for line in order.lines.all()
        ],
    }


# -- formats ------------------------------------------------------------------------------------


def lines_summary(lines: list[dict[str, Any]]) -> str:
    return LIST_SEPARATOR.join(
        f"{line['quantity']} × {line['name']} @ {line['unit_price']}" for line in lines
    )


def write_csv(out: IO[str], records: Iterable[dict[str, Any]], columns: list[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    for record in records:
        if "lines" in record and isinstance(record["lines"], list):
            record = {**record, "line_count": len(record["lines"]), "lines": lines_summary(record["lines"])}
        writer.writerow([csv_cell(record.get(column)) for column in columns])
        count += 1
    return count


def _json(record: dict[str, Any]) -> str:
    return json.dumps(record, cls=DjangoJSONEncoder, ensure_ascii=False)


def write_json(out: IO[str], records: Iterable[dict[str, Any]], columns: list[str]) -> int:
    """One JSON array, written element by element (never built in memory)."""
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(_json(record))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_jsonl(out: IO[str], records: Iterable[dict[str, Any]], columns: list[str]) -> int:
    count = 0
    for record in records:
        out.write(_json(record) + "\n")
        count += 1
    return count


def vcard_text(value: Any) -> str:
    """Escape a text value as RFC 6350 §3.4 asks: backslash, comma, semicolon and newlines."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def vcard_fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 6350 §3.2) without splitting a UTF-8 character."""
    parts, current, size = [], "", 0
    for char in line:
        octets = len(char.encode())
        if size + octets > 75:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += octets
    parts.append(current)
    return "\r\n".join(parts)


def display_name(first: str, last: str) -> str:
    """'Ada Lovelace', but '王小明' for a Chinese, Japanese or Korean name (family name first, no space)."""
    if first and last and all(unicodedata.east_asian_width(ch) == "W" for ch in first + last):
        return last + first
    return f"{first} {last}".strip()


def vcard(record: dict[str, Any]) -> str:
    full = display_name(record["first_name"], record["last_name"]) or record["email"] or record["phone"]
    props = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        f"UID:urn:uuid:{record['uuid']}",
        f"FN:{vcard_text(full)}",
        f"N:{vcard_text(record['last_name'])};{vcard_text(record['first_name'])};;;",
    ]
    props += [f"EMAIL;PREF=1:{vcard_text(record['email'])}"] if record["email"] else []
    props += [f"EMAIL:{vcard_text(e)}" for e in record["other_emails"]]
    extension = f";ext={record['phone_extension']}" if record.get("phone_extension") else ""
    props += [f"TEL;VALUE=uri;PREF=1:tel:{record['phone']}{extension}"] if record["phone"] else []
    props += [f"TEL;VALUE=uri:tel:{p}" for p in record["other_phones"]]
    props += _vcard_optional(record)
    props.append(f"REV:{record['updated_at']:%Y%m%dT%H%M%SZ}")
    props.append("END:VCARD")
    return "".join(vcard_fold(p) + "\r\n" for p in props)


def _vcard_optional(record: dict[str, Any]) -> list[str]:
    props = []
    if record["company"]:
        props.append(f"ORG:{vcard_text(record['company'])}")
    if record["title"]:
        props.append(f"TITLE:{vcard_text(record['title'])}")
    address = [record[f] for f in ("street", "city", "region", "postal_code", "country")]
    if any(address):
        props.append("ADR:;;" + ";".join(vcard_text(part) for part in address))
    if record["birthday"]:
        props.append(f"BDAY:{record['birthday']:%Y%m%d}")
    elif re.fullmatch(r"\d\d-\d\d", str((record.get("custom_fields") or {}).get("birthday", ""))):
        props.append(f"BDAY:--{record['custom_fields']['birthday'].replace('-', '')}")  # no year known
    if record["tags"]:
        props.append("CATEGORIES:" + ",".join(vcard_text(t) for t in record["tags"]))
    if record["notes"]:
        props.append(f"NOTE:{vcard_text(record['notes'])}")
    if record.get("photo"):  # a data: URI or a URL, as vCard 4.0 writes both
        props.append(f"PHOTO:{record['photo']}")
    return props


def write_vcard(out: IO[str], records: Iterable[dict[str, Any]], columns: list[str]) -> int:
    count = 0
    for record in records:
        out.write(vcard(record))
        count += 1
    return count


WRITERS: dict[str, Callable[[IO[str], Iterable[dict[str, Any]], list[str]], int]] = {
    "csv": write_csv,
    "json": write_json,
    "jsonl": write_jsonl,
    "vcard": write_vcard,
}


# -- filter options from a FilterSchema ---------------------------------------------------------


METAVARS = {str: "TEXT", date: "YYYY-MM-DD", UUID: "UUID", Decimal: "AMOUNT", int: "NUMBER"}


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _choices(kind: Any) -> list[str] | None:
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return [str(member.value) for member in kind]
    if typing.get_origin(kind) is typing.Literal:
        return [str(v) for v in typing.get_args(kind)]
    return None


def add_filter_arguments(parser: argparse.ArgumentParser, schema: type[FilterSchema]) -> None:
    """One option per filter field: ``--created-after``, ``--stage {lead,…}``, ``--consent/--no-consent``."""
    for name, info in schema.model_fields.items():
        flag = name if name not in OWN_OPTIONS else f"filter_{name}"
        kind = _unwrap(info.annotation)
        options: dict[str, Any] = {"dest": f"filter__{name}", "default": None}
        options["help"] = info.description or name.replace("_", " ")
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif choices := _choices(kind):
            options["choices"] = choices
        else:
            options["metavar"] = METAVARS.get(kind, "VALUE")
        parser.add_argument("--" + flag.replace("_", "-"), **options)


def filter_from_options(schema: type[FilterSchema], options: dict[str, Any]) -> FilterSchema:
    data = {name: options.get(f"filter__{name}") for name in schema.model_fields}
    try:
        return schema.model_validate({k: v for k, v in data.items() if v is not None})
    except pydantic.ValidationError as error:
        problems = "; ".join(f"--{'-'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise CommandError(problems.replace("_", "-")) from None


# -- the command --------------------------------------------------------------------------------


class Command(BaseCommand):
    help = _("Export contacts or orders as CSV, JSON, JSON Lines or vCard (contacts).")
    # The system checks import every URL module (and with it pandas, scipy, fpdf…): seconds
    # this command does not need. `solocrm check`, `serve` and `worker` still run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="{contacts,orders}")
        self._add_kind(kinds, "contacts", ContactFilter, _("Export contacts."))
        orders = order_filter()
        if orders is not None:
            self._add_kind(kinds, "orders", orders, _("Export orders with their lines."))

    def _add_kind(self, kinds: Any, name: str, schema: type[FilterSchema], text: str) -> None:
        sub = kinds.add_parser(name, help=text, description=text)
        sub.add_argument("--format", choices=FORMATS, default="csv", help=_("Output format (default csv)."))
        sub.add_argument(
            "--output", "-o", type=Path, help=_("Write to this file instead of standard output.")
        )
        sub.add_argument(
            "--excel", action="store_true", help=_("CSV: start with a byte-order mark so Excel reads UTF-8.")
        )
        group = sub.add_argument_group(_("filters"))
        add_filter_arguments(group, schema)

    def handle(self, *args, kind: str, **options) -> None:
        fmt = options["format"]
        if kind == "orders":
            schema, rows, record, columns = order_filter(), order_rows, order_record, ORDER_COLUMNS
            if fmt == "vcard":
                raise CommandError(_("vCard is for contacts; export orders as csv, json or jsonl."))
        else:
            schema, rows, record, columns = ContactFilter, contact_rows, contact_record, CONTACT_COLUMNS
        filters = filter_from_options(schema, options)
        records = (record(obj) for obj in rows(filters))
        if kind == "contacts" and fmt == "csv":
            columns = columns + [CUSTOM_PREFIX + key for key in custom_field_keys(filters)]
            records = flat_custom_fields(records)
        try:
            with self._output(options["output"]) as out:
                if fmt == "csv" and options["excel"]:
                    out.write("\ufeff")
                count = WRITERS[fmt](out, records, columns)
        except BrokenPipeError:
            # The reader stopped early (`solocrm export … | head`): not an error. Point stdout
            # at /dev/null so the interpreter's final flush does not fail either.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        if options["output"]:
            self.stderr.write(
                _("Wrote %(count)d %(kind)s to %(path)s.")
                % {"count": count, "kind": kind, "path": options["output"]}
            )

    @contextmanager
    def _output(self, path: Path | None) -> Iterator[IO[str]]:
        """The file, or standard output as UTF-8 whatever the terminal's encoding (an export is
        data for another program, not text for this terminal)."""
        if path is not None:
            with path.open("w", encoding="utf-8", newline="") as out:
                yield out
            return
        stream = getattr(self.stdout, "_out", self.stdout)
        if stream is sys.stdout and hasattr(stream, "buffer"):
            stream.flush()
            out = io.TextIOWrapper(stream.buffer, encoding="utf-8", newline="", write_through=True)
            try:
                yield out
            finally:
                out.flush()
                out.detach()  # leave sys.stdout's buffer open
            return
        yield stream
