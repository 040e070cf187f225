"""Companies: matched by external id, then web domain, then name (case-insensitive); same
update rule as contacts (first matching row overwrites changed fields, in-file duplicates fill
empty ones). Company files are small, so plain bulk_create / bulk_update is fast enough."""

from __future__ import annotations

from typing import Any

from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from ..models import Company
from . import values as v
from .base import Context, IdSet, Item, Kind, parse_into
from .contacts import resolve_tags

TEXT_FIELDS = (
    ("external_id", 100),
    ("name", 200),
    ("industry", 100),
    ("street", 200),
    ("city", 100),
    ("region", 100),
    ("postal_code", 20),
    ("country", 60),
)
SCALARS = (*(name for name, _limit in TEXT_FIELDS), "domain", "phone", "notes")


class CompaniesKind(Kind):
    name = "companies"
    analysed_models = (Company,)
    id_caches = ("tag_ids",)
    required = ("name",)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.seen = IdSet()
        self.tag_ids: dict[str, int] = {}
        self.text_fields = [
            (name, lambda s, n=limit: " ".join(v.text(s, n).split())) for name, limit in TEXT_FIELDS
        ]

    def parse(self, row: list[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        row, errors = self.cells.fit(row)
        record: dict[str, Any] = {}
        first = self.cells.first
        for name, parser in self.text_fields:
            parse_into(record, errors, name, first(row, name), parser)
        parse_into(record, errors, "domain", first(row, "domain"), v.web_domain)
        parse_into(record, errors, "phone", first(row, "phone"), lambda s: v.phone(s, self.ctx.region))
        notes = "\n".join(value.strip() for _h, value in self.cells.all(row, "notes"))
        parse_into(record, errors, "notes", ("", notes), lambda s: v.text(s, v.MAX_NOTES))
        record["tags"] = []
        for header, value in self.cells.all(row, "tags"):
            parse_into(record, errors, "_tags", (header, value), v.parse_tags)
            record["tags"] += record.pop("_tags", [])
        if not record.get("name") and not errors:
            errors.append(("", _("the row has no company name")))
        return record, errors

    def write(self, batch: list[Item]) -> None:
        stored = self._fetch(batch)
        local: dict[tuple[str, str], Company] = {}
        report, new, changed = self.ctx.report, [], {}
        for item in batch:
            record, keys = item.record, _keys(item.record)
            company = next(
                (local.get(k) or stored.get(k) for k in keys if local.get(k) or stored.get(k)), None
            )
            if company is None:
                company = Company(**{k: record.get(k, "") for k in SCALARS})
                company.new_tags = list(record["tags"])
                new.append(company)
                report.created += 1
            else:
                fill_only = company.pk is None or company.pk in self.seen
                did_change = _absorb(company, record, fill_only)
                if company.pk is not None and did_change:
                    changed[company.pk] = company
                if fill_only:
                    report.merged += 1
                else:
                    report.updated += did_change
                    report.unchanged += not did_change
                    self.seen.add(company.pk)
            for key in keys:
                local.setdefault(key, company)
        self._save(new, list(changed.values()))

    def _fetch(self, batch: list[Item]) -> dict[tuple[str, str], Company]:
        wanted = {"x": set(), "d": set(), "n": set()}
        for item in batch:
            for prefix, value in _keys(item.record):
                wanted[prefix].add(value)
        stored: dict[tuple[str, str], Company] = {}
        queries = (
            ("x", Company.objects.filter(external_id__in=wanted["x"]), "external_id"),
            ("d", Company.objects.filter(domain__in=wanted["d"]), "domain"),
            ("n", Company.objects.annotate(key=Lower("name")).filter(key__in=wanted["n"]), "key"),
        )
        for prefix, query, attr in queries:
            if wanted[prefix]:
                for company in query.prefetch_related("tags").order_by("id"):
                    company.new_tags = []
                    stored.setdefault((prefix, getattr(company, attr)), company)
        return stored

    def _save(self, new: list[Company], changed: list[Company]) -> None:
        # bulk_create and bulk_update do not call save(): the search text is written here.
        for company in new:
            company.search_text = company.search_document()
        Company.objects.bulk_create(new)
        renamed = []
        for company in changed:
            company.updated_at = self.ctx.now
            text = company.search_document()
            if text != company.search_text:
                company.search_text = text
                renamed.append(company)
        if changed:
            Company.objects.bulk_update(changed, [*SCALARS, "updated_at", "search_text"])
        for company in renamed:
            company.refresh_contacts_search()
        for company in new + changed:
            self.seen.add(company.pk)
        everyone = [c for c in new + changed if c.new_tags]
        resolve_tags({t.lower(): t for c in everyone for t in c.new_tags}, self.tag_ids)
        through = Company.tags.through
        links = [
            through(company_id=c.pk, tag_id=self.tag_ids[t.lower()]) for c in everyone for t in c.new_tags
        ]
        through.objects.bulk_create(links, ignore_conflicts=True)


def _absorb(company: Company, record: dict[str, Any], fill_only: bool) -> bool:
    changed = False
    for name in SCALARS:
        new, old = record.get(name, ""), getattr(company, name)
        if new and new != old and (not fill_only or not old):
            setattr(company, name, new)
            changed = True
    known = {t.name.lower() for t in company.tags.all()} if company.pk else set()
    known |= {t.lower() for t in company.new_tags}
    for tag in record["tags"]:
        if tag.lower() not in known:
            company.new_tags.append(tag)
            known.add(tag.lower())
            changed = True
    return changed


def _keys(record: dict[str, Any]) -> list[tuple[str, str]]:
    keys = [("x", record["external_id"])] if record.get("external_id") else []
    if record.get("domain"):
        keys.append(("d", record["domain"]))
    keys.append(("n", record["name"].lower()))
    return keys
