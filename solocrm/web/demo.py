"""Deterministic, realistic demo data: `solocrm demo` and the set-up page's "load demo data".

The same seed, size and end date always give the same data (names, e-mails, amounts, dates and
public ids). Customers behave the way the analytics expects real ones to (Fader, Hardie & Lee,
"Counting your customers the easy way", 2005): each buyer purchases at their own rate (drawn
from a gamma distribution, so a few are very frequent and most are not) and may drop out after
any purchase (a beta-distributed probability), so there are many one-time buyers and a loyal
core. Purchases follow a seasonal pattern (a November/December peak and a summer dip), spend
per order varies by customer independently of frequency (as the Gamma-Gamma model assumes), and
acquisition channels differ in how often and how much their customers buy.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from solocrm.contacts.models import Company, Contact, Interaction, Tag
from solocrm.lib.business import business_settings
from solocrm.sales.choices import OrderStatus, Priority, SalesChannel
from solocrm.sales.models import (
    Deal,
    DealStageChange,
    FormSubmission,
    LeadForm,
    Order,
    OrderLine,
    Product,
    Quote,
    QuoteLine,
    Task,
)
from solocrm.sales.orders.stamps import orders_changed

from .demo_sales import SalesDemo

Progress = Callable[[str, int, int], object]  # (step, done, total)

YEARS = 3
BATCH = 2000
# Relative order volume by month (January first): holiday peak, summer dip.
SEASON = (0.85, 0.8, 0.95, 1.0, 1.0, 0.7, 0.65, 0.7, 1.0, 1.1, 1.6, 1.9)
PEAK = max(SEASON)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 10, 9, 9, 9, 9, 9, 10, 11, 11, 9, 6, 3)
# Buyer behaviour: purchases a year ~ Gamma(shape, scale), capped at twice a week; chance of
# leaving after each purchase ~ Beta(a, b). Tuned for ~10 orders per contact over three years,
# the largest group of buyers buying once, and the top tenth of buyers placing over half the orders.
RATE_SHAPE, RATE_SCALE, RATE_CAP = 0.5, 90.0, 104.0
DROPOUT_A, DROPOUT_B = 0.4, 2.0
DUPLICATE_SHARE = 0.005  # a few contacts typed in twice, so the duplicates page has work to show


class DemoDataExists(Exception):
    """The database already holds contacts, orders…; loading demo data would mix the two."""


@dataclass
class Person:
    """A contact being generated, with the hidden traits that drive their behaviour."""

    contact: Contact
    chinese: bool
    duplicate: bool = False  # a second record of someone already generated
    rate: float = 0.0  # purchases per year while active
    dropout: float = 1.0  # chance of leaving after each purchase
    basket: float = 1.0  # spend per order relative to the average customer
    sales_channel: str = SalesChannel.ONLINE
    tags: set[str] = field(default_factory=set)
    orders: list[Order] = field(default_factory=list)


def demo_targets() -> list[type]:
    """The models `--replace` empties, children first."""
    return [
        FormSubmission, LeadForm, QuoteLine, Quote, DealStageChange, Deal, OrderLine, Order,
        Interaction, Task, Contact, Company, Product,
    ]  # fmt: skip


def has_data() -> bool:
    return any(model.objects.exists() for model in demo_targets())


def load_demo(
    progress: Progress | None = None,
    contacts: int = 2000,
    seed: int = 42,
    *,
    end: date | None = None,
    replace: bool = False,
    user=None,
) -> dict[str, int]:
    """Fill the database with demo data and return how many rows of each kind were written.

    ``end`` anchors every date (default: today, at midnight UTC): data covers the three years
    before it. ``user`` (optional) becomes the owner of contacts and the author of notes and
    tasks. Raises DemoDataExists when the database holds data, unless ``replace``, which deletes
    contacts, companies, orders, products, interactions and tasks first, in the same transaction.
    """
    progress = progress or (lambda step, done, total: None)
    builder = DemoBuilder(contacts=contacts, seed=seed, end=end or datetime.now(UTC).date(), user=user)
    builder.build(progress)
    with transaction.atomic():
        if replace:
            for model in demo_targets():
                model.objects.all().delete()
        elif has_data():
            raise DemoDataExists(_("The database already holds data; use --replace to delete it first."))
        return DemoWriter(builder, progress).write()


class DemoBuilder:
    """Generates every row in memory, using one seeded random generator in a fixed order."""

    def __init__(self, *, contacts: int, seed: int, end: date, user=None) -> None:
        self.size = max(1, contacts)
        self.seed = seed
        self.rng = random.Random(seed)
        self.uuid_rng = random.Random(f"{seed}:uuid")  # public ids never shift the data itself
        self.end = datetime.combine(end, time(), tzinfo=UTC)
        self.start = self.end - timedelta(days=365 * YEARS)
        self.user = user if getattr(user, "is_authenticated", False) else None
        self.currency = business_settings().currency
        self.people: list[Person] = []
        self.emails: set[str] = set()
        self.phones: set[str] = set()

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.uuid_rng.getrandbits(128), version=4)

    def build(self, progress: Progress) -> None:
        self.tags = [Tag(uuid=self.uuid(), name=name, color=color) for name, color in TAGS]
        self.products = [self._product(i, *row) for i, row in enumerate(PRODUCTS)]
        self.product_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self.products))]
        self.products_by_prefix = {p.sku.split("-")[0]: p for p in self.products}
        self.companies = self._companies(max(1, round(self.size * 0.15)))
        originals = self.size - int(self.size * DUPLICATE_SHARE)
        for _i in range(originals):
            self.people.append(self._person())
        for _i in range(self.size - originals):
            self.people.append(self._duplicate_of(self.rng.choice(self.people[: max(1, originals // 2)])))
        for done, person in enumerate(self.people, start=1):
            self._simulate_orders(person)
            self._set_stage(person)
            if done % 100 == 0 or done == len(self.people):
                progress("generating", done, len(self.people))
        self._number_orders()
        self._assign_tags()
        self.interactions = self._interactions(self.size * 5)
        self.surveys = self._survey_answers()
        self.tasks = self._tasks(max(1, self.size // 5))

    # -- products and companies -------------------------------------------------------------

    def _product(self, index: int, prefix: str, name: str, price: str) -> Product:
        return Product(
            uuid=self.uuid(),
            sku=f"{prefix}-{index + 1:03d}",
            name=name,
            price=Decimal(price),
            currency=self.currency,
            description=_("Demo product"),
        )

    def _companies(self, count: int) -> list[Company]:
        companies, names = [], set()
        while len(companies) < count:
            company = self._zh_company() if self.rng.random() < 0.3 else self._en_company()
            if company.name in names:
                continue
            names.add(company.name)
            companies.append(company)
        return companies

    def _en_company(self) -> Company:
        word = self.rng.choice(EN_COMPANY_WORDS)
        kind, industry = self.rng.choice(EN_COMPANY_KINDS)
        name = f"{word} {kind}{self.rng.choice(EN_COMPANY_SUFFIXES)}"
        slug = "".join(ch for ch in f"{word}{kind}".lower() if ch.isalnum())
        city, region, country, style = self.rng.choice(EN_CITIES)
        tld = {"United Kingdom": ".co.uk", "Australia": ".com.au", "Canada": ".ca"}.get(country, ".com")
        return self._company(name, f"{slug}{tld}", industry, city, region, country, style)

    def _zh_company(self) -> Company:
        word, pinyin = self.rng.choice(ZH_COMPANY_WORDS)
        kind, kind_en, industry = self.rng.choice(ZH_COMPANY_KINDS)
        city = self.rng.choice(ZH_COMPANY_CITIES)
        name = f"{city}{word}{kind}有限公司"
        town, region, country, style = ZH_CITIES[ZH_COMPANY_CITIES.index(city) % len(ZH_CITIES)]
        return self._company(name, f"{pinyin}-{kind_en}.cn", industry, town, region, country, style)

    def _company(self, name, domain, industry, city, region, country, style) -> Company:
        return Company(
            uuid=self.uuid(),
            name=name,
            domain=domain,
            industry=industry,
            street=self._street(),
            city=city,
            region=region,
            country=country,
            phone=self._phone(style) if self.rng.random() < 0.7 else "",
            created_at=self._moment(self.start - timedelta(days=90), self.end - timedelta(days=30)),
        )

    # -- people -----------------------------------------------------------------------------

    def _person(self) -> Person:
        chinese = self.rng.random() < 0.3
        first, last, first_latin, last_latin = self._name(chinese)
        channel = self.rng.choices(list(CHANNELS), weights=[c[0] for c in CHANNELS.values()])[0]
        company = self.rng.choice(self.companies) if self.rng.random() < 0.45 else None
        city, region, country, style = self._place(chinese, company)
        created = self._acquired_at()
        contact = Contact(
            uuid=self.uuid(),
            first_name=first,
            last_name=last,
            company=company,
            title=self._title(chinese, company),
            source=self.rng.choice(CHANNELS[channel][3]),
            channel=channel,
            street=self._street() if self.rng.random() < 0.6 else "",
            city=city,
            region=region,
            country=country,
            postal_code=f"{self.rng.randint(10000, 99999)}" if self.rng.random() < 0.5 else "",
            owner=self.user,
            created_at=created,
            custom_fields={"preferred_language": "zh-hans" if chinese else "en"},
        )
        contact.email = self._email(first_latin, last_latin, company, chinese)
        contact.phone = self._phone(style) if self.rng.random() < 0.7 else ""
        self._add_details(contact)
        return Person(contact=contact, chinese=chinese)

    def _name(self, chinese: bool) -> tuple[str, str, str, str]:
        if chinese:
            last, last_latin, _weight = self.rng.choices(ZH_LAST, weights=[w for *_x, w in ZH_LAST])[0]
            first, first_latin = self.rng.choice(ZH_FIRST)
            return first, last, first_latin, last_latin
        first, last = self.rng.choice(EN_FIRST), self.rng.choice(EN_LAST)
        return first, last, first.lower(), last.lower()

    def _place(self, chinese: bool, company: Company | None) -> tuple[str, str, str, str]:
        if company is not None and self.rng.random() < 0.7:
            style = "cn" if company.country == "China" else "us"
            return company.city, company.region, company.country, style
        if chinese and self.rng.random() < 0.8:
            return self.rng.choice(ZH_CITIES)
        return self.rng.choice(EN_CITIES)

    def _title(self, chinese: bool, company: Company | None) -> str:
        if company is None or self.rng.random() < 0.2:
            return ""
        return self.rng.choice(ZH_TITLES if chinese and company.country == "China" else EN_TITLES)

    def _email(self, first: str, last: str, company: Company | None, chinese: bool) -> str:
        if self.rng.random() < 0.08:
            return ""
        if company is not None and self.rng.random() < 0.6:
            domain = company.domain
        else:
            domain = self.rng.choice(FREE_MAIL_ZH if chinese else FREE_MAIL_EN)
        local = self.rng.choice([f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}", f"{last}.{first}"])
        email, n = f"{local}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        return email

    def _phone(self, style: str) -> str:
        while True:
            if style == "us":  # 555-0100…0199 are reserved for fiction in North America
                phone = f"+1{self.rng.choice(US_AREA_CODES)}55501{self.rng.randint(0, 99):02d}"
            elif style == "gb":  # Ofcom's drama range
                phone = f"+447700900{self.rng.randint(0, 999):03d}"
            elif style == "au":  # ACMA's fiction range
                phone = f"+6149157{self.rng.randint(0, 9999):04d}"
            else:
                phone = f"+86138001{self.rng.randint(0, 99999):05d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def _street(self) -> str:
        return f"{self.rng.randint(1, 250)} {self.rng.choice(STREETS)}"

    def _add_details(self, contact: Contact) -> None:
        rng = self.rng
        if rng.random() < 0.25:
            contact.birthday = date(rng.randint(1960, 2002), rng.randint(1, 12), rng.randint(1, 28))
        if contact.email and rng.random() < (0.85 if contact.channel == "email" else 0.6):
            contact.give_consent(rng.choice(CONSENT_SOURCES), at=contact.created_at + timedelta(minutes=3))
        if rng.random() < 0.1:
            contact.notes = rng.choice(BODIES)

    def _duplicate_of(self, person: Person) -> Person:
        """The same person entered again: by e-mail, by phone, or with a typo in the name."""
        original = person.contact
        twin = Contact(
            uuid=self.uuid(),
            first_name=original.first_name,
            last_name=original.last_name,
            company=original.company,
            channel=original.channel,
            source=_("Business card"),
            created_at=original.created_at + timedelta(days=self.rng.randint(30, 300)),
            city=original.city,
            country=original.country,
        )
        how = self.rng.choice(["email", "phone", "name"])
        # Main e-mails are unique (one contact per address): a twin keeps it among its others.
        if how == "email" and original.email:
            twin.other_emails = [original.email]
        elif how == "phone" and original.phone:
            twin.phone = original.phone
        elif original.company is not None and len(original.last_name) > 3:
            twin.last_name = original.last_name[:-2] + original.last_name[-1]  # "Wilson" -> "Wilsn"
        else:
            twin.other_emails = [original.email] if original.email else []
            twin.phone = original.phone
        return Person(contact=twin, chinese=person.chinese, duplicate=True)

    def _acquired_at(self) -> datetime:
        """More new contacts as the business grows, and more around the holidays."""
        span = (self.end - self.start).total_seconds()
        while True:
            moment = self.start + timedelta(seconds=span * self.rng.random() ** 0.85)
            if self.rng.random() < SEASON[moment.month - 1] / PEAK:
                return moment.replace(hour=self.rng.choices(range(24), HOUR_WEIGHTS)[0])

    def _moment(self, after: datetime, before: datetime) -> datetime:
        span = max(60.0, (before - after).total_seconds())
        return after + timedelta(seconds=self.rng.random() * span)

    # -- orders -----------------------------------------------------------------------------

    def _simulate_orders(self, person: Person) -> None:
        contact = person.contact
        _weight, buy_chance, rate_factor, _sources = CHANNELS[contact.channel]
        if person.duplicate or self.rng.random() >= buy_chance:
            return  # a lead or prospect who has not bought (yet)
        person.rate = min(RATE_CAP, self.rng.gammavariate(RATE_SHAPE, RATE_SCALE) * rate_factor)
        person.dropout = self.rng.betavariate(DROPOUT_A, DROPOUT_B)
        person.basket = self.rng.gammavariate(4.0, 0.25)
        person.sales_channel = self._sales_channel(contact)
        first = contact.created_at + timedelta(days=self.rng.expovariate(1 / 10))
        if first >= self.end:
            return
        for moment in self._purchase_times(first, person.rate, person.dropout):
            person.orders.append(self._order(person, moment))

    def _purchase_times(self, first: datetime, rate: float, dropout: float) -> list[datetime]:
        """BG/NBD-style purchases: a Poisson process of ``rate`` a year (thinned by season)
        while the customer is active; after each purchase they leave with ``dropout``."""
        times, moment = [first], first
        per_day = max(rate, 0.05) * PEAK / 365
        while self.rng.random() >= dropout:
            while True:
                moment += timedelta(days=self.rng.expovariate(per_day))
                if moment >= self.end:
                    return times
                if self.rng.random() < SEASON[moment.month - 1] / PEAK:
                    break
            times.append(moment)
        return times

    def _sales_channel(self, contact: Contact) -> str:
        if contact.channel == "marketplace":
            return SalesChannel.MARKETPLACE
        if contact.company is not None and self.rng.random() < 0.5:
            return SalesChannel.INVOICE
        return self.rng.choices(
            [SalesChannel.ONLINE, SalesChannel.IN_PERSON, SalesChannel.PHONE, SalesChannel.MARKETPLACE],
            weights=[70, 15, 8, 7],
        )[0]

    def _order(self, person: Person, moment: datetime) -> Order:
        channel = person.sales_channel if self.rng.random() < 0.85 else self.rng.choice(SalesChannel.values)
        order = Order(
            uuid=self.uuid(),
            contact=person.contact,
            channel=channel,
            currency=self.currency,
            ordered_at=moment.replace(hour=self.rng.choices(range(24), HOUR_WEIGHTS)[0]),
        )
        if order.ordered_at >= self.end:
            order.ordered_at = moment
        order.demo_lines = self._lines(order, person.basket)
        order.total = sum((line.total for line in order.demo_lines), Decimal("0.00"))
        self._set_status(order)
        return order

    def _lines(self, order: Order, basket: float) -> list[OrderLine]:
        count = min(5, 1 + int(self.rng.expovariate(1 / (0.9 * basket))))
        chosen = self.rng.choices(self.products, self.product_weights, k=count)
        companion = COMPANIONS.get(chosen[0].sku.split("-")[0])
        if companion and self.rng.random() < 0.45:  # bought together, so recommendations have a signal
            chosen.append(self.products_by_prefix[companion])
        products = {id(p): p for p in chosen}
        lines = []
        for product in products.values():
            quantity = Decimal(1 + (self.rng.random() < 0.15 * basket) + (self.rng.random() < 0.05 * basket))
            price = product.price
            if self.rng.random() < 0.05:
                price = (price * Decimal("0.9")).quantize(Decimal("0.01"))  # a discount code
            lines.append(
                OrderLine(
                    order=order,
                    product=product,
                    sku=product.sku,
                    name=product.name,
                    quantity=quantity,
                    unit_price=price,
                    total=(price * quantity).quantize(Decimal("0.01")),
                )
            )
        return lines

    def _set_status(self, order: Order) -> None:
        age = (self.end - order.ordered_at).days
        order.status = OrderStatus.FULFILLED if age > 5 else OrderStatus.PAID
        if age <= 2 and self.rng.random() < 0.3:
            order.status = OrderStatus.PENDING
        roll = self.rng.random()
        if roll < 0.025:
            order.status = OrderStatus.REFUNDED
            order.notes = _("Refunded: item arrived damaged.")
        elif roll < 0.04:
            order.status = OrderStatus.CANCELLED
            order.notes = _("Cancelled by the customer before shipping.")
        elif roll < 0.05 and len(order.demo_lines) > 1:
            refunded = order.demo_lines[-1]
            order.status = OrderStatus.PARTIALLY_REFUNDED
            order.total -= refunded.total
            order.notes = _("Partly refunded: %(item)s") % {"item": refunded.name}

    def _number_orders(self) -> None:
        orders = sorted((o for p in self.people for o in p.orders), key=lambda o: (o.ordered_at, o.uuid))
        for number, order in enumerate(orders, start=1001):
            order.number = f"SO-{number}"
        self.orders = orders

    def _set_stage(self, person: Person) -> None:
        """The lifecycle stage follows from the orders, as the owner would judge it: recent
        buyers are customers, those overdue relative to their own rhythm are at risk, dormant
        or churned."""
        contact = person.contact
        bought = [o.ordered_at for o in person.orders if o.status != OrderStatus.CANCELLED]
        if not bought:
            contact.lifecycle_stage = "prospect" if self.rng.random() < 0.4 else "lead"
            return
        gap = (bought[-1] - bought[0]).days / (len(bought) - 1) if len(bought) > 1 else 120
        idle = (self.end - bought[-1]).days
        if idle > max(540, 6 * gap):
            contact.lifecycle_stage = "churned"
        elif idle > max(270, 4 * gap):
            contact.lifecycle_stage = "dormant"
        elif idle > max(90, 2 * gap):
            contact.lifecycle_stage = "at_risk"
        else:
            contact.lifecycle_stage = "repeat" if len(bought) > 1 else "customer"

    def _assign_tags(self) -> None:
        spend = sorted(self.people, key=lambda p: sum(o.total for o in p.orders), reverse=True)
        for person in spend[: max(1, len(spend) // 20)]:
            if person.orders:
                person.tags.add("vip")
        for person in self.people:
            self._tags_for(person)

    def _tags_for(self, person: Person) -> None:
        contact, rng = person.contact, self.rng
        if contact.email_consent and rng.random() < 0.7:
            person.tags.add("newsletter")
        if person.sales_channel == SalesChannel.INVOICE and person.orders:
            person.tags.update(["b2b", "needs-invoice"] if rng.random() < 0.5 else ["b2b"])
        if person.orders and len(person.orders) >= 8 and person.basket > 1.3:
            person.tags.add("wholesale")
        if contact.channel == "referral" or (person.orders and rng.random() < 0.04):
            person.tags.add("referrer")
        december = sum(o.ordered_at.month == 12 for o in person.orders)
        if person.orders and december * 2 > len(person.orders):
            person.tags.add("gift-buyer")
        if person.chinese and rng.random() < 0.35:
            person.tags.add("wechat")
        if contact.channel == "event":
            person.tags.add("event-attendee")
        if rng.random() < 0.02:
            person.tags.add("beta-tester")

    # -- timeline and tasks -----------------------------------------------------------------

    def _interactions(self, count: int) -> list[Interaction]:
        """Engaged contacts (buyers, prospects) have more entries on their timeline."""
        weights = [1 + len(p.orders) ** 0.5 + (p.contact.lifecycle_stage == "prospect") for p in self.people]
        kinds = list(INTERACTIONS)
        kind_weights = [INTERACTIONS[k][0] for k in kinds]
        entries = []
        for person in self.rng.choices(self.people, weights, k=count):
            kind = self.rng.choices(kinds, kind_weights)[0]
            entries.append(self._interaction(person.contact, kind))
        entries.sort(key=lambda i: i.occurred_at)
        return entries

    def _interaction(self, contact: Contact, kind: str) -> Interaction:
        product = self.rng.choices(self.products, self.product_weights)[0]
        subject = self.rng.choice(INTERACTIONS[kind][1]).format(product=product.name)
        occurred = self._moment(contact.created_at, self.end - timedelta(minutes=1))
        return Interaction(
            uuid=self.uuid(),
            kind=kind,
            occurred_at=occurred,
            subject=subject,
            body=self.rng.choice(BODIES) if self.rng.random() < 0.6 else "",
            contact=contact,
            company=contact.company,
            author=self.user,
        )

    def _survey_answers(self) -> list[Interaction]:
        """About a third of buyers answer a "how likely are you to recommend us" survey (0-10) a
        few days after an order, and some a 1-5 satisfaction question; loyal customers score higher."""
        answers = []
        for person in self.people:
            for order in person.orders:
                if self.rng.random() >= 0.12:
                    continue
                loyalty = min(1.0, len(person.orders) / 8)
                metric = "nps" if self.rng.random() < 0.7 else "csat"
                if metric == "nps":
                    score = round(min(10, max(0, self.rng.gauss(6.2 + 3.3 * loyalty, 2.0))))
                else:
                    score = round(min(5, max(1, self.rng.gauss(3.4 + 1.4 * loyalty, 0.9))))
                answers.append(self._survey_answer(person.contact, order.ordered_at, metric, score))
        answers.sort(key=lambda i: i.occurred_at)
        return answers

    def _survey_answer(self, contact: Contact, ordered_at: datetime, metric: str, score: int) -> Interaction:
        if metric == "nps":
            question = _("How likely are you to recommend us?")
        else:
            question = _("How satisfied were you?")
        answered_at = ordered_at + timedelta(days=self.rng.randint(2, 9))
        return Interaction(
            uuid=self.uuid(),
            kind="survey",
            occurred_at=min(self.end - timedelta(minutes=1), answered_at),
            subject=question,
            body=str(score),
            contact=contact,
            company=contact.company,
            data={"metric": metric, "score": score},
        )

    def _tasks(self, count: int) -> list[Task]:
        tasks = []
        for person in self.rng.sample(self.people, min(count, len(self.people))):
            tasks.append(self._task(person.contact))
        return tasks

    def _task(self, contact: Contact) -> Task:
        product = self.rng.choices(self.products, self.product_weights)[0]
        title = self.rng.choice(TASKS).format(name=contact.full_name or contact.email, product=product.name)
        created = self._moment(max(contact.created_at, self.end - timedelta(days=120)), self.end)
        roll, done_at = self.rng.random(), None
        if roll < 0.55:  # done
            due = created + timedelta(days=self.rng.randint(1, 14))
            done_at = min(self.end - timedelta(hours=1), due + timedelta(hours=self.rng.randint(-48, 72)))
        elif roll < 0.62:  # overdue: a solo owner who uses the tool falls a few days behind, not months
            due = self.end - timedelta(days=self.rng.randint(1, 10), hours=self.rng.randint(0, 12))
        else:  # coming up
            due = self.end + timedelta(days=self.rng.randint(1, 21), hours=self.rng.randint(8, 17))
        return Task(
            uuid=self.uuid(),
            title=title[:200],
            due_at=due,
            done_at=max(done_at, created) if done_at else None,
            priority=self.rng.choices(Priority.values, weights=[15, 55, 25, 5])[0],
            contact=contact,
            company=contact.company,
            assignee=self.user,
            created_by=self.user,
            created_at=min(created, due),
        )


class DemoWriter:
    """Writes what DemoBuilder generated: bulk inserts in batches, one transaction (the caller's)."""

    def __init__(self, builder: DemoBuilder, progress: Progress) -> None:
        self.b = builder
        self.progress = progress

    def write(self) -> dict[str, int]:
        b = self.b
        tags = self._tags()
        self._insert("products", b.products)
        self._insert("companies", b.companies, keep_created=True)
        contacts = [p.contact for p in b.people]
        self._insert("contacts", contacts, keep_created=True)
        self._link_tags(tags)
        self._insert("orders", b.orders)
        lines = [line for order in b.orders for line in order.demo_lines]
        self._insert("order lines", lines)
        self._insert("interactions", b.interactions)
        self._insert("survey answers", b.surveys)
        self._insert("tasks", b.tasks, keep_created=True)
        # auto_now_add overwrote created_at on insert; orders and entries were "created" when they happened
        Order.objects.filter(pk__gte=b.orders[0].pk if b.orders else 0).update(created_at=F("ordered_at"))
        Interaction.objects.filter(pk__gte=b.interactions[0].pk).update(created_at=F("occurred_at"))
        self.progress("deals", 0, 1)
        sales = SalesDemo(seed=b.seed, end=b.end, size=b.size, uuid=b.uuid, user=b.user).write()
        self.progress("deals", 1, 1)
        orders_changed()  # the Today figures cached by a running server are recomputed at once
        return {
            "contacts": len(contacts),
            "companies": len(b.companies),
            "products": len(b.products),
            "orders": len(b.orders),
            "order_lines": len(lines),
            "interactions": len(b.interactions),
            "survey_answers": len(b.surveys),
            "tasks": len(b.tasks),
            "tags": len(tags),
            **sales,
        }

    def _tags(self) -> dict[str, Tag]:
        """Re-use tags of the same name (tags are not deleted by --replace)."""
        existing = {t.name.lower(): t for t in Tag.objects.all()}
        new = [t for t in self.b.tags if t.name.lower() not in existing]
        Tag.objects.bulk_create(new)
        return {
            **{t.name: t for t in new},
            **{t.name: existing[t.name.lower()] for t in self.b.tags if t not in new},
        }

    def _insert(self, step: str, objects: list, keep_created: bool = False) -> None:
        model = type(objects[0]) if objects else None
        created = [getattr(obj, "created_at", None) for obj in objects] if keep_created else []
        for start in range(0, len(objects), BATCH):
            model.objects.bulk_create(objects[start : start + BATCH], batch_size=BATCH)
            self.progress(step, min(start + BATCH, len(objects)), len(objects))
        if keep_created and objects:
            # auto_now_add replaced the generated creation times: put them back
            for obj, moment in zip(objects, created, strict=True):
                obj.created_at = moment
            model.objects.bulk_update(objects, ["created_at"], batch_size=500)

    def _link_tags(self, tags: dict[str, Tag]) -> None:
        through = Contact.tags.through
        rows = [
            through(contact_id=p.contact.pk, tag_id=tags[name].pk)
            for p in self.b.people
            for name in sorted(p.tags)
        ]
        through.objects.bulk_create(rows, batch_size=BATCH)
        self.progress("tags", len(rows), len(rows))


# -- word lists: fictional people, companies and products. Phone numbers come from ranges
# reserved for fiction where the country has one (see DemoBuilder._phone).

EN_FIRST = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Daniel", "Karen",
    "Matthew", "Emma", "Anthony", "Olivia", "Mark", "Sophie", "Paul", "Grace", "Steven", "Chloe",
    "Andrew", "Hannah", "Joshua", "Emily", "Kevin", "Laura", "Brian", "Rachel", "George", "Amelia",
    "Edward", "Charlotte", "Ryan", "Isla", "Jacob", "Lucy", "Nathan", "Ella", "Samuel", "Ruby",
    "Oliver", "Freya", "Henry", "Alice", "Leo", "Maya", "Noah", "Zoe", "Ethan", "Nora",
]  # fmt: skip
EN_LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker",
    "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson",
    "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward", "Cox", "Richardson", "Wood", "Watson",
]  # fmt: skip
# (characters, pinyin, weight): the most common surnames are much more common.
ZH_LAST = [
    ("王", "wang", 10), ("李", "li", 10), ("张", "zhang", 9), ("刘", "liu", 7), ("陈", "chen", 6),
    ("杨", "yang", 4), ("黄", "huang", 3), ("赵", "zhao", 3), ("吴", "wu", 3), ("周", "zhou", 3),
    ("徐", "xu", 2), ("孙", "sun", 2), ("马", "ma", 2), ("朱", "zhu", 2), ("胡", "hu", 2),
    ("郭", "guo", 2), ("何", "he", 2), ("林", "lin", 2), ("高", "gao", 2), ("罗", "luo", 1),
]  # fmt: skip
ZH_FIRST = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"),
    ("小明", "xiaoming"), ("晓燕", "xiaoyan"), ("志强", "zhiqiang"), ("海燕", "haiyan"),
    ("建华", "jianhua"), ("欣怡", "xinyi"), ("子涵", "zihan"), ("浩然", "haoran"), ("雨桐", "yutong"),
    ("思远", "siyuan"), ("佳琪", "jiaqi"), ("宇轩", "yuxuan"), ("梓萱", "zixuan"), ("俊杰", "junjie"),
]  # fmt: skip

# (city, region, country, phone style)
EN_CITIES = [
    ("New York", "NY", "United States", "us"), ("San Francisco", "CA", "United States", "us"),
    ("Boston", "MA", "United States", "us"), ("Chicago", "IL", "United States", "us"),
    ("Seattle", "WA", "United States", "us"), ("Austin", "TX", "United States", "us"),
    ("Denver", "CO", "United States", "us"), ("Portland", "OR", "United States", "us"),
    ("London", "", "United Kingdom", "gb"), ("Manchester", "", "United Kingdom", "gb"),
    ("Edinburgh", "", "United Kingdom", "gb"), ("Bristol", "", "United Kingdom", "gb"),
    ("Toronto", "ON", "Canada", "us"), ("Vancouver", "BC", "Canada", "us"),
    ("Sydney", "NSW", "Australia", "au"), ("Melbourne", "VIC", "Australia", "au"),
    ("Dublin", "", "Ireland", "gb"),
]  # fmt: skip
ZH_CITIES = [
    ("Shanghai", "Shanghai", "China", "cn"), ("Beijing", "Beijing", "China", "cn"),
    ("Shenzhen", "Guangdong", "China", "cn"), ("Guangzhou", "Guangdong", "China", "cn"),
    ("Hangzhou", "Zhejiang", "China", "cn"), ("Chengdu", "Sichuan", "China", "cn"),
    ("Suzhou", "Jiangsu", "China", "cn"), ("Nanjing", "Jiangsu", "China", "cn"),
]  # fmt: skip
US_AREA_CODES = [
    "212", "646", "415", "628", "617", "312", "206", "512", "303", "503", "416", "604", "718", "510",
    "213", "310", "202", "305", "404", "702",
]  # fmt: skip
STREETS = [
    "Main Street", "Oak Avenue", "Maple Road", "High Street", "Station Road", "Park Lane", "Church Street",
    "Mill Lane", "King Street", "Elm Street", "Nanjing Road", "Huaihai Road", "Jianguo Road", "Renmin Road",
]  # fmt: skip
FREE_MAIL_EN = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "hotmail.co.uk"]
FREE_MAIL_ZH = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com"]

EN_COMPANY_WORDS = [
    "Blue Harbor", "Northwind", "Maple & Moss", "Bright Path", "Silver Birch", "Ironwood", "Red Kite",
    "Green Valley", "Copper Leaf", "Foxglove", "Lighthouse", "Summit", "Riverstone", "Oak & Ash",
    "Kestrel", "Harbourside", "Juniper", "Wildflower", "Stonebridge", "Larkspur", "Evergreen",
    "Willow Creek", "Clearwater", "Golden Hour", "Pinecone", "Sandstone", "Bluebell", "Orchard",
]  # fmt: skip
EN_COMPANY_KINDS = [
    ("Design", "Design"), ("Studio", "Design"), ("Consulting", "Consulting"), ("Media", "Media"),
    ("Coffee Co.", "Food & drink"), ("Bakery", "Food & drink"), ("Architects", "Architecture"),
    ("Yoga", "Health & fitness"), ("Fitness", "Health & fitness"), ("Labs", "Software"),
    ("Software", "Software"), ("Events", "Events"), ("Interiors", "Interiors"), ("Florists", "Retail"),
    ("Books", "Retail"), ("Photography", "Media"), ("Legal", "Legal"), ("Accounting", "Finance"),
]  # fmt: skip
EN_COMPANY_SUFFIXES = ["", "", " Ltd", " LLC", " Inc.", " & Co."]
ZH_COMPANY_WORDS = [
    ("星辰", "xingchen"), ("云帆", "yunfan"), ("锦程", "jincheng"), ("华美", "huamei"), ("创新", "chuangxin"),
    ("远航", "yuanhang"), ("天成", "tiancheng"), ("博雅", "boya"), ("青禾", "qinghe"), ("明德", "mingde"),
    ("悦然", "yueran"), ("森林", "senlin"), ("卓越", "zhuoyue"), ("蓝海", "lanhai"), ("新元", "xinyuan"),
]  # fmt: skip
ZH_COMPANY_KINDS = [
    ("科技", "tech", "Software"), ("设计", "design", "Design"), ("文化", "culture", "Media"),
    ("贸易", "trade", "Wholesale"), ("咨询", "consulting", "Consulting"), ("教育", "edu", "Education"),
    ("餐饮", "food", "Food & drink"), ("传媒", "media", "Media"),
]  # fmt: skip
ZH_COMPANY_CITIES = ["上海", "北京", "深圳", "杭州", "广州", "成都"]

EN_TITLES = [
    "Founder", "Owner", "Managing Director", "Marketing Manager", "Office Manager", "Head of Design",
    "Creative Director", "Operations Lead", "Purchasing Manager", "Product Manager", "CEO", "Consultant",
]  # fmt: skip
ZH_TITLES = ["总经理", "创始人", "市场总监", "设计总监", "采购经理", "运营经理", "产品经理", "行政主管"]

# channel: (weight, chance of ever buying, purchase-rate multiplier, sources)
CHANNELS = {
    "organic": (30, 0.60, 1.0, ["Google", "Bing", "Baidu"]),
    "referral": (18, 0.80, 1.5, ["Customer referral", "Partner referral", "Word of mouth"]),
    "social": (15, 0.50, 0.9, ["Instagram", "LinkedIn", "WeChat", "Xiaohongshu", "Facebook"]),
    "paid": (12, 0.45, 0.7, ["Google Ads", "Meta Ads", "LinkedIn Ads"]),
    "email": (8, 0.65, 1.2, ["Newsletter", "Cold e-mail"]),
    "direct": (8, 0.70, 1.1, ["Website", "Walk-in"]),
    "event": (5, 0.50, 1.0, ["Trade fair", "Workshop", "Meetup"]),
    "marketplace": (3, 0.75, 0.8, ["Etsy", "Amazon", "Taobao"]),
    "other": (1, 0.50, 1.0, ["Podcast", "Press article"]),
}

# (SKU prefix, name, price); popularity falls with the position in the list.
PRODUCTS = [
    ("MUG", "Stoneware mug", "18.00"), ("TEA", "Loose-leaf tea, 100 g", "12.50"),
    ("NB", "Linen notebook", "16.00"), ("CARD", "Greeting card set", "9.00"),
    ("CNDL", "Soy candle", "24.00"), ("BWL", "Ceramic bowl", "28.00"),
    ("TOTE", "Canvas tote bag", "22.00"), ("PRNT", "Art print A4", "35.00"),
    ("COFF", "Single-origin coffee, 250 g", "14.00"), ("PLNT", "Plant pot, small", "19.00"),
    ("WSHP", "Pottery workshop seat", "85.00"), ("GIFT", "Gift card", "50.00"),
    ("TPOT", "Teapot", "58.00"), ("VASE", "Bud vase", "32.00"), ("SCRF", "Silk scarf", "65.00"),
    ("PRTL", "Art print A2", "95.00"), ("BOOK", "Sketchbook bundle", "29.00"),
    ("SET", "Tea ceremony set", "120.00"), ("LAMP", "Table lamp", "145.00"),
    ("RUG", "Hand-woven rug", "260.00"), ("CONS", "Consulting hour", "150.00"),
    ("BRND", "Brand identity package", "1800.00"), ("WEB", "Website refresh", "2400.00"),
    ("PHOT", "Product photography, half day", "650.00"), ("CRS", "Online course", "199.00"),
    ("MEMB", "Studio membership, 1 month", "49.00"), ("MNTR", "Mentoring session", "120.00"),
    ("SUBS", "Tea subscription, 3 months", "75.00"), ("PLTE", "Dinner plate", "26.00"),
    ("CUPS", "Espresso cups, pair", "30.00"), ("APRN", "Linen apron", "45.00"),
    ("KNIT", "Knitting kit", "38.00"), ("BAG", "Leather bag", "210.00"),
    ("JWL", "Silver earrings", "78.00"), ("WALL", "Wall hanging", "90.00"),
    ("SOAP", "Handmade soap trio", "21.00"), ("OIL", "Diffuser oil", "17.00"),
    ("CLND", "Wall calendar", "24.00"), ("PEN", "Fountain pen", "110.00"),
    ("WRAP", "Gift wrapping", "5.00"),
]  # fmt: skip

# Products often bought together (first item of an order -> its companion).
COMPANIONS = {
    "TEA": "TPOT", "TPOT": "CUPS", "COFF": "MUG", "MUG": "COFF", "PRNT": "WALL", "PRTL": "WALL",
    "CNDL": "OIL", "SOAP": "OIL", "GIFT": "WRAP", "CARD": "WRAP", "NB": "PEN", "BOOK": "PEN",
    "BWL": "PLTE", "PLNT": "VASE", "KNIT": "TOTE", "SUBS": "TEA", "WSHP": "APRN", "CONS": "MNTR",
}  # fmt: skip

TAGS = [
    ("vip", "#b45309"), ("newsletter", "#2563eb"), ("wholesale", "#7c3aed"), ("b2b", "#0f766e"),
    ("referrer", "#16a34a"), ("gift-buyer", "#db2777"), ("wechat", "#15803d"), ("needs-invoice", "#64748b"),
    ("beta-tester", "#0891b2"), ("event-attendee", "#ca8a04"),
]  # fmt: skip

INTERACTIONS = {
    # kind: (weight, subjects); "{product}" is filled in with one of the products.
    "note": (
        22,
        [
            "Prefers delivery on Fridays",
            "Asked about bulk pricing",
            "Interested in {product}",
            "Birthday next month — send a card",
            "Gift for a colleague",
            "Wants to be told about new stock",
        ],
    ),
    "email_out": (
        25,
        [
            "Your quote",
            "Following up on our call",
            "Thank you for your order",
            "A preview of the new collection",
            "Invoice attached",
            "Your {product} has shipped",
        ],
    ),
    "email_in": (
        20,
        [
            "Question about {product}",
            "Re: shipping time",
            "Invoice request",
            "Re: your quote",
            "Can I change my order?",
            "Thank you!",
        ],
    ),
    "call": (
        15,
        ["Discovery call", "Follow-up call", "Support call about {product}", "Call about a custom order"],
    ),
    "meeting": (8, ["Coffee meeting", "Project kick-off", "Quarterly review", "Studio visit"]),
    "chat": (7, ["WeChat chat about {product}", "Website chat: delivery question", "Chat about sizes"]),
    "social": (
        3,
        ["Commented on an Instagram post", "Shared our post on LinkedIn", "Mentioned us on Xiaohongshu"],
    ),
}
BODIES = [
    "All clear, nothing else needed for now.",
    "Will decide by the end of the month.",
    "Very happy with the last order; may order again for the holidays.",
    "Budget is tight this quarter, check back later.",
    "Asked for samples in two colours.",
    "Recommended us to a friend.",
    "Needs a VAT invoice with the company address.",
    "Prefers WeChat over e-mail.",
    "对上次的订单很满意，想了解新品。",
    "希望下周安排一次电话沟通。",
]
TASKS = [
    "Follow up with {name}",
    "Send a quote to {name}",
    "Call {name} about {product}",
    "Check in with {name}: no order for a while",
    "Thank {name} for the referral",
    "Send samples to {name}",
    "Prepare the invoice for {name}",
]
CONSENT_SOURCES = ["Newsletter sign-up form", "Checkout opt-in", "Event sign-up sheet"]
