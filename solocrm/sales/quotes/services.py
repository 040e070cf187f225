"""Quotes: the money maths, sequential numbers, the builder's writes, revising, sending by
e-mail with a signed accept link, and the customer's accept or decline.

Views, the API and the public accept page all call these functions; like solocrm.sales.services
they take validated values and model instances and write the audit log themselves.

Decisions (see docs/quotes.md):
- A quote gets its number when it is created, drafts included ("Q-2026-0001", per year of the
  issue date). Numbers come from NumberSequence under a row lock inside the creating
  transaction, so two quotes never share one and a failed save hands none out. A number is never
  reused: deleting a draft leaves a gap, which the audit log explains.
- Only drafts change. A sent quote is frozen (the customer may be reading it); "revise" copies
  it into a new draft with a new number, and the sent one is withdrawn so its link stops working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.services import create_interaction
from solocrm.lib.business import business_settings
from solocrm.lib.normalize import MAX_MONEY
from solocrm.sales.choices import QuoteStatus
from solocrm.sales.deals.models import Deal
from solocrm.sales.deals.services import StageError, touch_deal, update_deal
from solocrm.sales.orders.models import OrderLine, Product
from solocrm.sales.quotes.models import EXPIRED, NumberSequence, Quote, QuoteLine
from solocrm.users.models import AuditLog

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
MAX_QUANTITY = Decimal("1000000000")
MAX_LINES = 200
DEFAULT_VALIDITY_DAYS = 30
ACCEPT_SALT = "solocrm.sales.quote-accept"
OPEN_STATUSES = (QuoteStatus.DRAFT, QuoteStatus.SENT)


class QuoteError(ValueError):
    """A value the quote does not allow (a bad amount, percentage or date, too many lines…)."""


class QuoteStateError(QuoteError):
    """A change the quote's status does not allow (editing a sent quote, quoting a closed deal…)."""


class QuoteConflict(QuoteError):
    """The draft changed since the version the editor showed (another tab, another person)."""


# --- the maths --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """What a quote adds up to; ``lines`` are the line totals in the order given."""

    lines: tuple[Decimal, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_total(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """quantity × unit price less the line discount, rounded half up to the cent (once)."""
    return cents(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED)


def compute_totals(lines: list[dict[str, Any]], discount_percent: Decimal) -> Totals:
    """Totals of ``lines`` (dicts with quantity, unit_price, discount_percent, tax_rate).

    The quote discount applies to the subtotal; tax is computed per line on the line amount
    after the quote discount, rounded per line; total = subtotal − discount + tax."""
    totals = [line_total(ln["quantity"], ln["unit_price"], ln["discount_percent"]) for ln in lines]
    subtotal = sum(totals, Decimal("0.00"))
    discount_total = cents(subtotal * discount_percent / HUNDRED)
    keep = (HUNDRED - discount_percent) / HUNDRED
    tax_total = sum(
        (cents(amount * keep * ln["tax_rate"] / HUNDRED) for amount, ln in zip(totals, lines, strict=True)),
        Decimal("0.00"),
    )
    total = subtotal - discount_total + tax_total
    for value in (*totals, subtotal, total):
        if value > MAX_MONEY:
            raise QuoteError(_("The quote's amounts are too large (at most %(max)s).") % {"max": MAX_MONEY})
    return Totals(tuple(totals), subtotal, discount_total, tax_total, total)


def _decimal(value: Any, label: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise QuoteError(_("%(field)s is not a number.") % {"field": label}) from None
    if not number.is_finite():
        raise QuoteError(_("%(field)s is not a number.") % {"field": label})
    return number


def check_percent(value: Any, label: str) -> Decimal:
    """A percentage between 0 and 100 with at most two decimals."""
    number = _decimal(value, label)
    if not Decimal("0") <= number <= HUNDRED:
        raise QuoteError(_("%(field)s must be between 0 and 100 %%.") % {"field": label})
    if number != number.quantize(CENT):
        raise QuoteError(_("%(field)s may have at most two decimals.") % {"field": label})
    return number.quantize(CENT)


def _check_line(raw: dict[str, Any], number: int) -> dict[str, Any]:
    """A validated copy of one line's values; errors name the line."""
    prefix = _("Line %(number)s") % {"number": number}
    line = dict(raw)
    product = line.get("product")
    name = (line.get("name") or (product.name if product else "")).strip()
    if not name:
        raise QuoteError(_("%(line)s needs a name or a product.") % {"line": prefix})
    if len(name) > 200:
        raise QuoteError(_("%(line)s: the name is longer than 200 characters.") % {"line": prefix})
    quantity = _decimal(line.get("quantity", 1), _("%(line)s: quantity") % {"line": prefix})
    if not Decimal("0") < quantity <= MAX_QUANTITY or quantity != quantity.quantize(Decimal("0.001")):
        raise QuoteError(
            _("%(line)s: the quantity must be above 0, at most 1,000,000,000, with up to three decimals.")
            % {"line": prefix}
        )
    price = _decimal(line.get("unit_price", 0), _("%(line)s: unit price") % {"line": prefix})
    if not Decimal("0") <= price <= MAX_MONEY or price != price.quantize(CENT):
        raise QuoteError(
            _("%(line)s: the unit price must be between 0 and %(max)s, in cents.")
            % {"line": prefix, "max": MAX_MONEY}
        )
    return {
        "product": product,
        "name": name,
        "description": (line.get("description") or "").strip(),
        "quantity": quantity,
        "unit_price": price,
        # A blank percentage is none at all.
        "discount_percent": check_percent(
            line.get("discount_percent") or 0, _("%(line)s: discount") % {"line": prefix}
        ),
        "tax_rate": check_percent(line.get("tax_rate") or 0, _("%(line)s: tax rate") % {"line": prefix}),
    }


def check_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(lines) > MAX_LINES:
        raise QuoteError(_("A quote can have at most %(max)s lines.") % {"max": MAX_LINES})
    return [_check_line(line, index) for index, line in enumerate(lines, start=1)]


def line_from_product(product: Product) -> dict[str, Any]:
    """The values of a new line for ``product`` (the line keeps its own copy of them)."""
    return {
        "product": product,
        "name": product.name,
        "description": product.description,
        "quantity": Decimal("1"),
        "unit_price": product.price,
        "discount_percent": Decimal("0"),
        "tax_rate": Decimal("0"),
    }


# --- numbers ----------------------------------------------------------------------------------


def next_number(year: int) -> str:
    """The next quote number of ``year``; call inside the transaction that saves the quote."""
    key = f"Q-{year}"
    if not NumberSequence.objects.filter(key=key).exists():
        try:
            with transaction.atomic():  # a savepoint: another transaction may create it first
                NumberSequence.objects.create(key=key, last=0)
        except IntegrityError:
            pass
    sequence = NumberSequence.objects.select_for_update().get(key=key)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{key}-{sequence.last:04d}"


# --- writes -----------------------------------------------------------------------------------


def _dates(issued_on: date | None, valid_until: date | None) -> tuple[date, date]:
    issued_on = issued_on or timezone.localdate()
    valid_until = valid_until or issued_on + timedelta(days=DEFAULT_VALIDITY_DAYS)
    if valid_until < issued_on:
        raise QuoteError(_("The quote cannot be valid until a day before it is issued."))
    for day in (issued_on, valid_until):
        if not 1900 <= day.year <= 2200:
            raise QuoteError(_("The date %(day)s is out of range.") % {"day": day.isoformat()})
    return issued_on, valid_until


def _header(data: dict[str, Any], quote: Quote | None = None) -> dict[str, Any]:
    """Validated header values (dates, discount, texts), falling back to ``quote``'s."""
    issued_on, valid_until = _dates(
        data.get("issued_on", quote.issued_on if quote else None),
        data.get("valid_until", quote.valid_until if quote else None),
    )
    header = {"issued_on": issued_on, "valid_until": valid_until}
    if "discount_percent" in data or quote is None:
        header["discount_percent"] = check_percent(data.get("discount_percent") or 0, _("Discount"))
    for field in ("introduction", "terms"):
        if field in data:
            header[field] = data[field] or ""
    return header


def _write_lines(quote: Quote, lines: list[dict[str, Any]]) -> None:
    """Replace the lines and store the totals (``lines`` already checked)."""
    totals = compute_totals(lines, quote.discount_percent)
    quote.lines.all().delete()
    QuoteLine.objects.bulk_create(
        QuoteLine(quote=quote, position=index, total=amount, **line)
        for index, (line, amount) in enumerate(zip(lines, totals.lines, strict=True))
    )
    _store_totals(quote, totals)


def _store_totals(quote: Quote, totals: Totals) -> None:
    """Store the totals; every change of a quote passes here, so the version is bumped here."""
    quote.subtotal, quote.discount_total = totals.subtotal, totals.discount_total
    quote.tax_total, quote.total = totals.tax_total, totals.total
    quote.version += 1
    quote.save()


def _current_lines(quote: Quote) -> list[dict[str, Any]]:
    fields = ("product", "name", "description", "quantity", "unit_price", "discount_percent", "tax_rate")
    return [{f: getattr(line, f) for f in fields} for line in quote.lines.select_related("product")]


@transaction.atomic
def create_quote(deal: Deal, data: dict[str, Any] | None = None, *, lines=None, actor=None) -> Quote:
    """A new draft quote on ``deal`` in the deal's currency, numbered at once.

    ``data`` may hold issued_on, valid_until (default: issued + 30 days), discount_percent,
    introduction, terms and contact (default: the deal's). Nothing is saved on an error."""
    data = dict(data or {})
    if not deal.is_open:
        raise QuoteStateError(_("The deal is closed: reopen it before quoting."))
    header = _header(data)
    checked = check_lines(list(lines or []))
    quote = Quote(
        deal=deal,
        contact=data.get("contact") or deal.contact,
        currency=deal.currency,
        number=next_number(header["issued_on"].year),
        created_by=_user(actor),
        **header,
    )
    quote.save()
    _write_lines(quote, checked)
    AuditLog.record(actor, "quote.create", quote, summary=f"{quote.number} ({deal.title})"[:300])
    return quote


def _locked(quote: Quote) -> Quote:
    """The quote re-read under a row lock: the status seen is the one the write acts on."""
    return Quote.objects.select_for_update(of=("self",)).select_related("deal", "contact").get(pk=quote.pk)


def _require_draft(quote: Quote) -> None:
    if quote.status != QuoteStatus.DRAFT:
        raise QuoteStateError(
            _("Quote %(number)s is %(status)s and can no longer change; revise it to make a new version.")
            % {"number": quote.number, "status": quote.get_status_display().lower()}
        )


def _check_version(quote: Quote, version: Any) -> None:
    """Refuse a change made on a version of the draft other than the current one (None: no check)."""
    if version is None or str(version).strip() == "":
        return
    if str(version).strip() != str(quote.version):
        raise QuoteConflict(
            _(
                "Quote %(number)s was changed in another tab or by someone else after you opened it, "
                "so this change was not saved. Reload the page to see the current lines, then make "
                "your change again."
            )
            % {"number": quote.number}
        )


@transaction.atomic
def update_quote(quote: Quote, data: dict[str, Any], *, lines=None, actor=None, version=None) -> Quote:
    """Change a draft's header (``data``) and, when given, replace its lines; totals follow.
    ``version`` (the builder's): QuoteConflict when the draft changed since."""
    locked = _locked(quote)
    _require_draft(locked)
    _check_version(locked, version)
    header = _header(data, locked)
    if "contact" in data:
        header["contact"] = data["contact"]
    checked = check_lines(list(lines)) if lines is not None else check_lines(_current_lines(locked))
    changes = {f: [str(getattr(locked, f)), str(v)] for f, v in header.items() if getattr(locked, f) != v}
    for field, value in header.items():
        setattr(locked, field, value)
    _write_lines(locked, checked)
    if lines is not None:
        changes["lines"] = len(checked)
    if changes:
        AuditLog.record(actor, "quote.update", locked, summary=locked.number, changes=changes)
    _refresh(quote, locked)
    return quote


def _refresh(target: Quote, source: Quote) -> None:
    """Copy the saved state onto the caller's instance."""
    for field in target._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


@transaction.atomic
def delete_quote(quote: Quote, *, actor=None) -> None:
    """Delete a draft. Its number is not handed out again: the audit log records the gap."""
    locked = _locked(quote)
    _require_draft(locked)
    AuditLog.record(
        actor,
        "quote.delete",
        locked,
        summary=_("%(number)s deleted (number not reused)") % {"number": locked.number},
    )
    locked.delete()


@transaction.atomic
def withdraw_quote(quote: Quote, *, actor=None) -> Quote:
    """Take back an open (draft or sent) quote: its accept link stops working."""
    locked = _locked(quote)
    if locked.status not in OPEN_STATUSES:
        raise QuoteStateError(_("Only a draft or sent quote can be withdrawn."))
    locked.status = QuoteStatus.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    AuditLog.record(actor, "quote.withdraw", locked, summary=locked.number)
    _refresh(quote, locked)
    return quote


@transaction.atomic
def revise_quote(quote: Quote, *, actor=None) -> Quote:
    """A new draft copying ``quote`` (new number, issued today, valid as long as the original
    was, 30 days when that was none); a sent original is withdrawn, an expired one stays expired."""
    locked = _locked(quote)
    if locked.status in (QuoteStatus.DRAFT, QuoteStatus.ACCEPTED):
        raise QuoteStateError(
            _("Only a sent, declined or withdrawn quote can be revised; edit a draft directly.")
        )
    issued_on = timezone.localdate()
    length = max((locked.valid_until - locked.issued_on).days, 0)
    data = {
        "issued_on": issued_on,
        "valid_until": issued_on + timedelta(days=length or DEFAULT_VALIDITY_DAYS),
        "discount_percent": locked.discount_percent,
        "introduction": locked.introduction,
        "terms": locked.terms,
        "contact": locked.contact,
    }
    revision = create_quote(locked.deal, data, lines=_current_lines(locked), actor=actor)
    if locked.status == QuoteStatus.SENT and not locked.is_expired:
        withdraw_quote(locked, actor=actor)  # an expired one stays as it is: it reads "Expired"
    AuditLog.record(actor, "quote.revise", revision, summary=f"{locked.number} → {revision.number}")
    return revision


def is_revisable(quote: Quote) -> bool:
    return quote.status in (QuoteStatus.SENT, QuoteStatus.DECLINED, QuoteStatus.WITHDRAWN)


def status_choices() -> list[tuple[str, str]]:
    """The statuses people filter by: the stored ones and "expired" (derived)."""
    return [*QuoteStatus.choices, (EXPIRED, _("Expired"))]


def filter_status(rows: QuerySet, status: str, today: date | None = None) -> QuerySet:
    """Quotes of a status as people read it: "sent" leaves out the expired ones, "expired" is a
    sent quote past its validity; anything else unknown filters nothing."""
    today = today or timezone.localdate()
    if status == EXPIRED:
        return rows.filter(status=QuoteStatus.SENT, valid_until__lt=today)
    if status == QuoteStatus.SENT:
        return rows.filter(status=status, valid_until__gte=today)
    if status in QuoteStatus.values:
        return rows.filter(status=status)
    return rows


# --- the builder's line by line changes --------------------------------------------------------


def _draft_for_change(quote: Quote, version: Any) -> Quote:
    locked = _locked(quote)
    _require_draft(locked)
    _check_version(locked, version)
    return locked


def _line_of(quote: Quote, line_id: Any) -> QuoteLine:
    line = (
        quote.lines.filter(pk=line_id).select_related("product").first() if str(line_id).isdigit() else None
    )
    if line is None:
        raise QuoteConflict(
            _("This line is no longer on quote %(number)s (removed in another tab?). Reload the page.")
            % {"number": quote.number}
        )
    return line


def _ordered_lines(quote: Quote) -> list[QuoteLine]:
    return list(quote.lines.select_related("product").order_by("position", "id"))


def _recompute(quote: Quote, lines: list[QuoteLine]) -> None:
    """Renumber ``lines`` in their order, store each line's total and the quote's totals."""
    fields = ("quantity", "unit_price", "discount_percent", "tax_rate")
    totals = compute_totals([{f: getattr(ln, f) for f in fields} for ln in lines], quote.discount_percent)
    for position, (line, amount) in enumerate(zip(lines, totals.lines, strict=True)):
        line.position, line.total = position, amount
    QuoteLine.objects.bulk_update(lines, ["position", "total"])
    _store_totals(quote, totals)


@transaction.atomic
def add_line(quote: Quote, data: dict[str, Any], *, version=None, actor=None) -> QuoteLine:
    """Append a line to a draft (``data`` as for a line; a product's values by default)."""
    locked = _draft_for_change(quote, version)
    lines = _ordered_lines(locked)
    if len(lines) >= MAX_LINES:
        raise QuoteError(_("A quote can have at most %(max)s lines.") % {"max": MAX_LINES})
    values = _check_line(data, len(lines) + 1)
    line = QuoteLine.objects.create(quote=locked, position=len(lines), **values)
    _recompute(locked, [*lines, line])
    AuditLog.record(
        actor, "quote.update", locked, summary=locked.number, changes={"line added": values["name"]}
    )
    _refresh(quote, locked)
    return line


@transaction.atomic
def update_line(quote: Quote, line_id: Any, data: dict[str, Any], *, version=None, actor=None) -> QuoteLine:
    """Change one line of a draft (the fields in ``data``); the totals follow."""
    locked = _draft_for_change(quote, version)
    lines = _ordered_lines(locked)
    line = next((ln for ln in lines if str(ln.pk) == str(line_id)), None) or _line_of(locked, line_id)
    current = {f: getattr(line, f) for f in ("product", "name", "description", "quantity", "unit_price",
                                               "discount_percent", "tax_rate")}  # fmt: skip
    values = _check_line({**current, **data}, lines.index(line) + 1)
    changes = {f: [str(current[f]), str(v)] for f, v in values.items() if current[f] != v}
    for field, value in values.items():
        setattr(line, field, value)
    line.save()
    _recompute(locked, lines)
    if changes:
        AuditLog.record(actor, "quote.update", locked, summary=locked.number, changes=changes)
    _refresh(quote, locked)
    return line


@transaction.atomic
def remove_line(quote: Quote, line_id: Any, *, version=None, actor=None) -> None:
    locked = _draft_for_change(quote, version)
    line = _line_of(locked, line_id)
    line.delete()
    _recompute(locked, _ordered_lines(locked))
    AuditLog.record(actor, "quote.update", locked, summary=locked.number, changes={"line removed": line.name})
    _refresh(quote, locked)


@transaction.atomic
def move_line(quote: Quote, line_id: Any, direction: str, *, version=None, actor=None) -> None:
    """One place up or down (nothing at either end)."""
    locked = _draft_for_change(quote, version)
    line = _line_of(locked, line_id)
    lines = _ordered_lines(locked)
    index = [ln.pk for ln in lines].index(line.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(lines):
        lines[index], lines[other] = lines[other], lines[index]
    _recompute(locked, lines)
    _refresh(quote, locked)


# --- the accept link --------------------------------------------------------------------------


def expires_at(valid_until: date) -> datetime:
    """The end of the validity day in the owner's time zone."""
    return timezone.make_aware(datetime.combine(valid_until + timedelta(days=1), time.min))


def accept_token(quote: Quote) -> str:
    """The signed token of the accept link: the quote's id and its last valid day."""
    return signing.dumps({"q": quote.uuid.hex, "v": quote.valid_until.isoformat()}, salt=ACCEPT_SALT)


def accept_path(quote: Quote) -> str:
    return reverse("public_quotes:show", args=[accept_token(quote)])


class LinkError(Exception):
    """Why an accept link cannot be used; ``status`` is the HTTP status the page answers."""

    def __init__(self, status: int, message: str, quote: Quote | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.quote = status, message, quote


def _token_values(token: str) -> tuple[str, date]:
    try:
        values = signing.loads(token, salt=ACCEPT_SALT)
        return str(values["q"]), date.fromisoformat(values["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkError(400, _("This link is not valid. Check that you copied all of it.")) from None


def quote_for_token(token: str, *, for_update: bool = False, now: datetime | None = None) -> Quote:
    """The quote a link points to, if the link still works; else LinkError (400/409/410)."""
    public_id, valid_until = _token_values(token)
    quotes = Quote.objects.select_related("deal", "deal__stage", "contact")
    if for_update:
        # The deal first, then the quote, as every writer does: two quotes of one deal accepted
        # at once wait for each other instead of deadlocking, and the deal read below is the
        # locked, current one (not lost meanwhile).
        deal_id = Quote.objects.filter(uuid=public_id).values_list("deal_id", flat=True).first()
        list(Deal.objects.select_for_update().filter(pk=deal_id))
        quotes = quotes.select_for_update(of=("self",))
    quote = quotes.filter(uuid=public_id).first()
    if quote is None or quote.status in (QuoteStatus.DRAFT, QuoteStatus.WITHDRAWN):
        raise LinkError(410, _("This quote has been withdrawn. Please ask for a new one."))
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED):
        return quote  # the page shows what was decided; deciding again is refused below
    last_day = min(valid_until, quote.valid_until)
    if (now or timezone.now()) >= expires_at(last_day):
        raise LinkError(
            410,
            _("This quote expired on %(day)s and can no longer be accepted. Please ask for a new one.")
            % {"day": date_format(last_day, "DATE_FORMAT")},
            quote,
        )
    if not quote.deal.is_open:
        raise LinkError(409, _("This quote can no longer be accepted: the matter is closed."), quote)
    return quote


def _require_undecided(quote: Quote) -> None:
    if quote.status == QuoteStatus.ACCEPTED:
        raise LinkError(409, _("This quote was already accepted."), quote)
    if quote.status == QuoteStatus.DECLINED:
        raise LinkError(409, _("This quote was already declined."), quote)


@transaction.atomic
def accept_quote(token: str, name: str, *, now: datetime | None = None) -> Quote:
    """The customer accepts: the quote is accepted, the deal's other open quotes withdrawn, the
    deal won (which creates its order, here with the quote's lines) and the owner told.

    The quote row is locked, so a double click or two tabs accept once; the second gets 409."""
    name = " ".join((name or "").split())[:200]
    if not name:
        raise QuoteError(_("Type your name to accept."))
    quote = quote_for_token(token, for_update=True, now=now)
    _require_undecided(quote)
    when = now or timezone.now()
    quote.status, quote.accepted_at, quote.accepted_by = QuoteStatus.ACCEPTED, when, name
    quote.save(update_fields=["status", "accepted_at", "accepted_by", "updated_at"])
    Quote.objects.filter(deal=quote.deal, status__in=OPEN_STATUSES).exclude(pk=quote.pk).update(
        status=QuoteStatus.WITHDRAWN, updated_at=when
    )
    deal = Deal.objects.select_for_update().get(pk=quote.deal_id)
    update_deal(deal, {"amount": quote.total, "currency": quote.currency})
    try:
        order = deal.mark_won(when=when)
    except StageError as error:  # a pipeline without a won stage: nothing may change
        raise LinkError(
            409, _("This quote cannot be accepted online right now; please reply by e-mail."), quote
        ) from error
    if order is not None and not order.lines.exists():
        _copy_lines_to_order(quote, order)
    _log(quote, _("Quote %(number)s accepted by %(name)s") % {"number": quote.number, "name": name})
    AuditLog.record(None, "quote.accept", quote, summary=f"{quote.number}: {name}"[:300])
    transaction.on_commit(lambda: _tell_owner(quote, accepted=True))
    return quote


def _copy_lines_to_order(quote: Quote, order) -> None:
    """The order lists what was bought, so basket analytics and recommendations see it."""
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=line.product,
            sku=line.product.sku if line.product else "",
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            total=line.total,
        )
        for line in quote.lines.select_related("product")
    )


@transaction.atomic
def decline_quote(token: str, reason: str = "", *, now: datetime | None = None) -> Quote:
    """The customer declines (optionally saying why); the deal stays open for the owner to act."""
    quote = quote_for_token(token, for_update=True, now=now)
    _require_undecided(quote)
    reason = (reason or "").strip()[:2000]
    quote.status, quote.declined_at = QuoteStatus.DECLINED, now or timezone.now()
    quote.save(update_fields=["status", "declined_at", "updated_at"])
    subject = _("Quote %(number)s declined") % {"number": quote.number}
    _log(quote, subject, reason)
    AuditLog.record(None, "quote.decline", quote, summary=quote.number, changes={"reason": reason})
    touch_deal(quote.deal, quote.declined_at)
    transaction.on_commit(lambda: _tell_owner(quote, accepted=False, reason=reason))
    return quote


def _log(quote: Quote, subject: str, body: str = "", kind: str = InteractionKind.SYSTEM, actor=None) -> None:
    """An entry on the customer's timeline, linked to the deal."""
    if quote.contact_id is None and quote.deal.company_id is None:
        return
    create_interaction(
        {
            "contact": quote.contact,
            "company": quote.deal.company if quote.contact_id is None else None,
            "deal": quote.deal,
            "kind": kind,
            "subject": subject[:300],
            "body": body,
            "data": {"quote": str(quote.uuid), "number": quote.number},
        },
        actor=actor,
    )


def _owner_addresses(quote: Quote) -> list[str]:
    for user in (quote.deal.owner, quote.created_by):
        if user is not None and user.email:
            return [user.email]
    owners = get_user_model().objects.filter(Q(groups__name="owner") | Q(is_superuser=True), is_active=True)
    return sorted({email for email in owners.values_list("email", flat=True) if email})[:5]


def _tell_owner(quote: Quote, *, accepted: bool, reason: str = "") -> None:
    recipients = _owner_addresses(quote)
    if not recipients:
        return
    context = {"quote": quote, "accepted": accepted, "reason": reason}
    subject = (_("Quote %(number)s was accepted") if accepted else _("Quote %(number)s was declined")) % {
        "number": quote.number
    }
    body = render_to_string("sales/quote_owner_email.txt", context)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients).send(fail_silently=True)


# --- sending ----------------------------------------------------------------------------------


def business_name() -> str:
    return business_settings().display_name


@transaction.atomic
def send_quote(quote: Quote, to: str, message: str = "", *, actor=None, base_url: str) -> Quote:
    """E-mail the quote to ``to`` with its PDF and the accept link (``base_url`` + /q/<token>/).

    Marks it sent, logs the e-mail on the customer's timeline and the deal, and counts as
    activity on the deal. A sent quote may be sent again (to another address). When the mail
    server refuses, nothing is marked and QuoteError says why."""
    from solocrm.sales.quotes.pdf import render_pdf

    locked = _locked(quote)
    if locked.status not in OPEN_STATUSES:
        raise QuoteStateError(_("Only a draft or sent quote can be sent."))
    if not locked.lines.exists():
        raise QuoteError(_("Add at least one line before sending the quote."))
    if timezone.now() >= expires_at(locked.valid_until):
        raise QuoteError(_("The quote's validity date has passed; change it or revise the quote."))
    if not locked.deal.is_open:
        raise QuoteStateError(_("The deal is closed: reopen it before sending a quote."))
    link = base_url.rstrip("/") + accept_path(locked)
    subject = _("Quote %(number)s from %(business)s") % {"number": locked.number, "business": business_name()}
    body = render_to_string(
        "sales/quote_email.txt",
        {"quote": locked, "link": link, "message": message, "business": business_name()},
    )
    sender = getattr(actor, "email", "") or ""
    email = EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [to], reply_to=[sender] if sender else None
    )
    email.attach(f"{locked.number}.pdf", render_pdf(locked), "application/pdf")
    now = timezone.now()
    locked.status, locked.sent_at, locked.sent_to = QuoteStatus.SENT, now, to
    locked.save(update_fields=["status", "sent_at", "sent_to", "updated_at"])
    _log(locked, subject, body, kind=InteractionKind.EMAIL_OUT, actor=actor)
    touch_deal(locked.deal, now)
    AuditLog.record(actor, "quote.send", locked, summary=f"{locked.number} → {to}"[:300])
    try:
        email.send()
    except OSError as error:  # smtplib's errors, refused connections and time-outs are all OSError
        raise QuoteError(
            _("The mail server did not take the message: %(error)s") % {"error": error}
        ) from None
    _refresh(quote, locked)
    return quote


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def preview(rows: list[dict[str, Any]], discount_percent: Any) -> Totals | str:
    """Totals of lines as typed so far (the builder's live totals): Totals, or the first reason
    they cannot be computed yet. A line without a name yet still counts."""
    try:
        lines = check_lines([{**row, "name": (row.get("name") or "").strip() or "…"} for row in rows])
        return compute_totals(lines, check_percent(discount_percent or 0, _("Discount")))
    except QuoteError as error:
        return str(error)
