"""The sales side of the demo data: a pipeline with open, won and lost deals and their stage
history, sent quotes (some about to expire), a lead form with recent submissions (some still
waiting for a reply), and call tasks on open deals. Written after the customers and orders, with
its own seeded generator, so the same seed gives the same deals.

Won deals are attached to real demo orders of business customers (the bigger ones), so the
revenue the analytics sees is not counted twice."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F, Max
from django.utils.translation import gettext as _

from solocrm.contacts.choices import InteractionKind, LifecycleStage
from solocrm.contacts.models import Contact, Interaction
from solocrm.lib.business import business_settings
from solocrm.sales.choices import LostReason, Priority, QuoteStatus, StageKind, TaskKind
from solocrm.sales.deals.services import default_pipeline
from solocrm.sales.models import (
    Deal,
    DealStageChange,
    FormSubmission,
    LeadForm,
    NumberSequence,
    Order,
    Product,
    Quote,
    QuoteLine,
    Stage,
    Task,
)

SERVICE_SKUS = ("CONS", "BRND", "WEB", "PHOT", "CRS", "WSHP", "SET", "RUG")
LEAD_SOURCES = ("website form", "referral", "webinar", "Instagram", "trade fair")
CENT = Decimal("0.01")


class SalesDemo:
    def __init__(self, *, seed: int, end: datetime, size: int, uuid, user=None) -> None:
        self.rng = random.Random(f"{seed}:sales")
        self.end = end
        self.size = size
        self.uuid = uuid  # the demo's own seeded UUID source
        self.user = user
        self.counts: dict[str, int] = {}

    def write(self) -> dict[str, int]:
        self.pipeline = default_pipeline()
        self.stages = list(self.pipeline.stages.order_by("position"))
        self.open_stages = [s for s in self.stages if s.kind == StageKind.OPEN]
        self.services = list(Product.objects.filter(sku__regex=r"^(" + "|".join(SERVICE_SKUS) + ")-"))
        self._won_deals()
        self._lost_deals()
        self._open_deals()
        self._lead_form()
        return self.counts

    # -- deals -------------------------------------------------------------------------------

    def _deal(self, contact: Contact, stage: Stage, created: datetime, amount: Decimal, **extra) -> Deal:
        product = self.rng.choice(self.services) if self.services else None
        title = product.name if product else _("Project")
        currency = extra.pop("currency", None) or (
            product.currency if product else business_settings().currency
        )
        return Deal(
            uuid=self.uuid(),
            title=(f"{title} · {contact.company.name}" if contact.company_id else title)[:200],
            pipeline=self.pipeline,
            stage=stage,
            contact=contact,
            company=contact.company if contact.company_id else None,
            amount=amount.quantize(CENT),
            currency=currency,
            source=contact.source or self.rng.choice(LEAD_SOURCES),
            owner=self.user,
            position=float(self.rng.randint(1, 10_000)),
            stage_entered_at=created,
            last_activity_at=created,
            **extra,
        )

    def _history(
        self, deal: Deal, path: list[Stage], start: datetime, finish: datetime
    ) -> list[DealStageChange]:
        """Stage changes from ``start`` to ``finish`` through ``path`` at random intervals."""
        moments = sorted(start + (finish - start) * self.rng.random() for _ in path[1:])
        if moments and path[-1].kind != StageKind.OPEN:
            moments[-1] = finish  # a deal is closed the moment it enters Won or Lost
        changes = [DealStageChange(deal=deal, from_stage=None, to_stage=path[0], changed_at=start)]
        for previous, stage, moment in zip(path, path[1:], moments, strict=False):
            changes.append(DealStageChange(deal=deal, from_stage=previous, to_stage=stage, changed_at=moment))
        deal.stage_entered_at = changes[-1].changed_at
        return changes

    def _save(self, deals: list[Deal], changes: list[DealStageChange], key: str) -> None:
        created = {deal.uuid: deal.created_at for deal in deals}
        Deal.objects.bulk_create(deals, batch_size=1000)
        for change in changes:
            change.deal_id = change.deal.pk
        DealStageChange.objects.bulk_create(changes, batch_size=1000)
        for deal in deals:
            deal.created_at = created[deal.uuid]
        Deal.objects.bulk_update(deals, ["created_at"], batch_size=500)
        self.counts[key] = len(deals)

    def _won_deals(self) -> None:
        """The biggest orders of business customers in the last two years became deals first."""
        orders = list(
            Order.objects.filter(
                contact__company__isnull=False, ordered_at__gte=self.end - timedelta(days=730)
            )
            .select_related("contact__company")
            .order_by("-total", "id")[: max(3, self.size // 40)]
        )
        won = next(s for s in self.stages if s.kind == StageKind.WON)
        deals, changes = [], []
        for order in orders:
            closed = order.ordered_at
            created = closed - timedelta(days=self.rng.randint(7, 75))
            deal = self._deal(
                order.contact,
                won,
                created,
                order.total,
                closed_at=closed,
                order=order,
                currency=order.currency,
            )
            deal.created_at, deal.last_activity_at = created, closed
            path = [*self.open_stages[: self.rng.randint(2, len(self.open_stages))], won]
            changes += self._history(deal, path, created, closed)
            deals.append(deal)
        self._save(deals, changes, "won_deals")

    def _lost_deals(self) -> None:
        lost = next(s for s in self.stages if s.kind == StageKind.LOST)
        contacts = self._contacts(max(2, self.size // 60), stages=("prospect", "customer", "lead"))
        reasons = [LostReason.PRICE, LostReason.TIMING, LostReason.COMPETITOR, LostReason.NO_RESPONSE,
                   LostReason.NO_BUDGET, LostReason.NOT_A_FIT]  # fmt: skip
        deals, changes = [], []
        for contact in contacts:
            closed = self.end - timedelta(days=self.rng.randint(3, 500))
            created = closed - timedelta(days=self.rng.randint(5, 90))
            reason = self.rng.choices(reasons, weights=[30, 20, 15, 20, 10, 5])[0]
            deal = self._deal(contact, lost, created, self._amount(), closed_at=closed, lost_reason=reason)
            deal.created_at, deal.last_activity_at = created, closed
            path = [*self.open_stages[: self.rng.randint(1, len(self.open_stages))], lost]
            changes += self._history(deal, path, created, closed)
            deals.append(deal)
        self._save(deals, changes, "lost_deals")

    def _open_deals(self) -> None:
        contacts = self._contacts(max(6, self.size // 40), stages=("lead", "prospect", "customer", "repeat"))
        deals, changes = [], []
        weights = [35, 25, 25, 15][: len(self.open_stages)]
        for number, contact in enumerate(contacts):
            index = self.rng.choices(range(len(self.open_stages)), weights=weights)[0]
            created = self.end - timedelta(days=self.rng.randint(2, 80), hours=self.rng.randint(0, 12))
            quiet_days = QUIET_DAYS[number % len(QUIET_DAYS)]  # two in nine have stalled
            activity = max(created, self.end - timedelta(days=quiet_days, hours=self.rng.randint(1, 9)))
            close = (self.end + timedelta(days=self.rng.randint(-10, 120))).date()
            deal = self._deal(contact, self.open_stages[index], created, self._amount(), expected_close=close)
            deal.created_at, deal.last_activity_at = created, activity
            deal.next_step = self.rng.choice(NEXT_STEPS)
            changes += self._history(deal, self.open_stages[: index + 1], created, activity)
            deals.append(deal)
        self._save(deals, changes, "open_deals")
        self._quotes([d for d in deals if d.stage.probability >= 50])
        self._deal_tasks(deals)

    def _amount(self) -> Decimal:
        return Decimal(self.rng.choice([450, 650, 900, 1200, 1800, 2400, 3200, 4800, 7500]))

    def _contacts(self, count: int, stages: tuple[str, ...]) -> list[Contact]:
        ids = list(
            Contact.objects.filter(lifecycle_stage__in=stages)
            .order_by("id")
            .values_list("id", flat=True)[:5000]
        )
        chosen = sorted(self.rng.sample(ids, min(count, len(ids))))
        return list(Contact.objects.filter(id__in=chosen).select_related("company").order_by("id"))

    # -- quotes and tasks --------------------------------------------------------------------

    def _quotes(self, deals: list[Deal]) -> None:
        """A sent quote per deal, issued when the deal entered its current stage (so never
        before the deal existed), numbered in the series of its year."""
        last: dict[int, int] = {}
        quotes, lines = [], []
        for deal in deals:
            issued = deal.stage_entered_at.date()
            key = f"Q-{issued.year}"
            if issued.year not in last:
                last[issued.year] = NumberSequence.objects.filter(key=key).aggregate(m=Max("last"))["m"] or 0
            last[issued.year] += 1
            quote = Quote(
                uuid=self.uuid(),
                number=f"{key}-{last[issued.year]:04d}",
                deal=deal,
                contact=deal.contact,
                status=QuoteStatus.SENT,
                currency=deal.currency,
                issued_on=issued,
                valid_until=issued + timedelta(days=30),
                sent_at=deal.stage_entered_at,
                sent_to=deal.contact.email,
                total=deal.amount,
                subtotal=deal.amount,
            )
            quotes.append(quote)
            name = deal.title.split(" · ")[0]
            lines.append(QuoteLine(quote=quote, name=name, unit_price=deal.amount, total=deal.amount))
        Quote.objects.bulk_create(quotes)
        for line in lines:
            line.quote_id = line.quote.pk
        QuoteLine.objects.bulk_create(lines)
        for year, number in last.items():
            NumberSequence.objects.update_or_create(key=f"Q-{year}", defaults={"last": number})
        self.counts["quotes"] = len(quotes)

    def _deal_tasks(self, deals: list[Deal]) -> None:
        tasks = []
        for deal in deals[: max(3, len(deals) // 2)]:
            due = self.end + timedelta(days=self.rng.randint(-3, 7), hours=self.rng.randint(9, 16))
            tasks.append(
                Task(
                    uuid=self.uuid(),
                    title=_("Call %(name)s about %(deal)s")
                    % {"name": deal.contact.full_name, "deal": deal.title},
                    kind=TaskKind.CALL,
                    due_at=due,
                    priority=self.rng.choice([Priority.NORMAL, Priority.HIGH]),
                    contact=deal.contact,
                    company=deal.company,
                    deal=deal,
                    assignee=self.user,
                    created_by=self.user,
                )
            )
        Task.objects.bulk_create(tasks)
        self.counts["deal_tasks"] = len(tasks)

    # -- the lead form -----------------------------------------------------------------------

    def _lead_form(self) -> None:
        form = LeadForm.objects.create(
            uuid=self.uuid(),
            name=_("Contact us"),
            title=_("Tell us about your project"),
            introduction=_("We answer every message within one working day."),
            fields=["first_name", "last_name", "email", "phone", "company", "message"],
            required_fields=["first_name", "email"],
            consent_text=_("Yes, send me the occasional newsletter. I can unsubscribe at any time."),
            source="website form",
            created_by=self.user,
        )
        leads = (
            Contact.objects.filter(lifecycle_stage=LifecycleStage.LEAD)
            .select_related("company")
            .order_by("-id")
        )
        submissions, interactions, tasks = [], [], []
        for index, lead in enumerate(leads[: max(3, self.size // 200)]):
            # Half arrived in the last three days; a third got their first reply two hours later.
            arrived = self.end - timedelta(hours=self.rng.randint(1, 24 * (3 if index % 2 else 10)))
            submission, entries, task = self._submission(form, lead, arrived, replied=index % 3 == 0)
            submissions.append((submission, arrived))
            interactions += entries
            tasks.append(task)
            Contact.objects.filter(pk=lead.pk).update(created_at=arrived, source=form.source)
        FormSubmission.objects.bulk_create([submission for submission, _arrived in submissions])
        Interaction.objects.bulk_create(interactions)
        Task.objects.bulk_create(tasks)
        # auto_now_add stamped everything "now": they happened when the visitors sent them
        for submission, arrived in submissions:
            submission.created_at = arrived
        FormSubmission.objects.bulk_update(
            [submission for submission, _arrived in submissions], ["created_at"]
        )
        Interaction.objects.filter(pk__in=[i.pk for i in interactions]).update(created_at=F("occurred_at"))
        self.counts["form_submissions"] = len(submissions)
        self.counts["lead_interactions"] = len(interactions)
        self.counts["lead_tasks"] = len(tasks)

    def _submission(self, form: LeadForm, lead: Contact, arrived: datetime, *, replied: bool):
        message = self.rng.choice(LEAD_MESSAGES)
        consent = self.rng.random() < 0.6
        data = {
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "email": lead.email,
            "message": message,
        }
        submission = FormSubmission(
            uuid=self.uuid(),
            form=form,
            contact=lead,
            data=data,
            consent_given=consent,
            consent_text=form.consent_text if consent else "",
        )
        entries = [self._entry(lead, InteractionKind.FORM, arrived, form.name, message, data)]
        if replied:
            subject = _("Re: %(form)s") % {"form": form.name}
            entries.append(
                self._entry(lead, InteractionKind.EMAIL_OUT, arrived + timedelta(hours=2), subject)
            )
        task = Task(
            uuid=self.uuid(),
            title=_("Reply to %(name)s (%(form)s)") % {"name": lead, "form": form.name},
            kind=TaskKind.FOLLOW_UP,
            due_at=arrived + timedelta(hours=24),
            priority=Priority.HIGH,
            contact=lead,
            company=lead.company,
            assignee=self.user,
            created_by=self.user,
            done_at=arrived + timedelta(hours=2) if replied else None,
        )
        return submission, entries, task

    def _entry(self, contact: Contact, kind: str, when: datetime, subject: str, body: str = "", data=None):
        return Interaction(
            uuid=self.uuid(),
            kind=kind,
            occurred_at=when,
            subject=subject,
            body=body,
            contact=contact,
            company=contact.company,
            data=data or {},
        )


QUIET_DAYS = (0, 2, 5, 20, 1, 30, 3, 8, 12)  # days since the last activity, in turn
NEXT_STEPS = [
    "Send the proposal", "Book a call to go through the quote", "Wait for the board's decision",
    "Share two reference projects", "Agree on the start date", "Send the contract",
]  # fmt: skip
LEAD_MESSAGES = [
    "Hi, we are looking for help with our brand before the spring launch. What would it cost?",
    "Could you send me your rates for product photography? About 40 items.",
    "We need a new website by the end of the quarter. Are you available?",
    "A friend recommended you. Do you offer workshops for teams of eight?",
    "您好，我们想了解一下品牌设计的价格和周期。",
]
