"""The demo data set of `manage.py seed_demo`: a plan drawn from a seeded random, then
written through the accounts and records services (`via=system`).

The plan depends only on the date it is made (so `late` invoices are past due on the day
it runs) and the fixed seed. Every row has a stable key (user email, contact customer
number, product SKU, invoice tag at the start of its notes), so a second run creates
only what is missing: nothing, after a complete first run.
"""

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts import tokens
from accounts.models import User
from accounts.roles import Role
from records import services
from records.models import Contact, Interface, Invoice, PaymentMethod, Product, TaxRate
from records.totals import CENTS, to_cents

SEED = 2026
VIA = Interface.SYSTEM

# Fixed, documented demo logins (README "make run"); DEBUG-only, like the demo admin.
DEMO_USERS = [
    (Role.ADMINISTRATOR, "administrator@example.com", "Ada Administrator",
     "ledgerbridge-demo-administrator"),
    (Role.EMPLOYEE, "employee@example.com", "Emma Employee", "ledgerbridge-demo-employee"),
    (Role.VIEWER, "viewer@example.com", "Victor Viewer", "ledgerbridge-demo-viewer"),
]  # fmt: skip

# How many invoices end in each state. `late` is open and past due; `partly_paid` is
# open (not yet due) with payments that do not cover the total.
INVOICE_STATES = {
    "draft": 8,
    "open": 10,
    "late": 8,
    "paid": 12,
    "partly_paid": 6,
    "cancelled": 6,
}
INVOICE_TAG = "Demo invoice {:02d}."
INVOICE_TAG_PREFIX = "Demo invoice "

_COMPANIES = [
    ("Bakkerij De Gouden Korst", "Utrecht", "NL"), ("Van Dijk Installatietechniek", "Zwolle", "NL"),
    ("Studio Noordlicht", "Groningen", "NL"), ("Fietsenmakerij Jansen", "Haarlem", "NL"),
    ("Koffiebranderij Bonte Boon", "Amsterdam", "NL"), ("Groen & Zonen Hoveniers", "Arnhem", "NL"),
    ("Drukkerij Letterzetter", "Leiden", "NL"), ("Brouwerij Het Anker", "Mechelen", "BE"),
    ("Atelier Lumière", "Gent", "BE"), ("Schreinerei Hoffmann", "Aachen", "DE"),
    ("Tandartspraktijk Zuidpark", "Eindhoven", "NL"), ("Reisbureau Verre Oorden", "Breda", "NL"),
    ("Kaashandel De Wit", "Gouda", "NL"),
]  # fmt: skip
_PERSONS = [
    ("Sanne", "de Vries", "Rotterdam", "NL"), ("Daan", "Bakker", "Den Haag", "NL"),
    ("Lotte", "Visser", "Delft", "NL"), ("Bram", "Smit", "Nijmegen", "NL"),
    ("Noor", "Meijer", "Maastricht", "NL"), ("Lukas", "Peeters", "Antwerpen", "BE"),
    ("Julia", "Schneider", "Köln", "DE"),
]  # fmt: skip
_STREETS = ["Dorpsstraat", "Kerkstraat", "Stationsweg", "Molenweg", "Havenkade", "Marktplein",
            "Lindelaan", "Beukenlaan", "Schoolstraat", "Julianastraat"]  # fmt: skip

# (title, price excl. tax, VAT percentage): services and goods at 21 %, food and books
# at 9 %, export shipping at 0 %.
_PRODUCTS = [
    ("Consultancy (hour)", "95.00", 21), ("Senior consultancy (hour)", "125.00", 21),
    ("Workshop (half day)", "450.00", 21), ("Workshop (full day)", "825.00", 21),
    ("Website maintenance (month)", "149.00", 21), ("Hosting basic (month)", "12.50", 21),
    ("Hosting business (month)", "29.95", 21), ("Domain name (year)", "14.95", 21),
    ("SSL certificate (year)", "59.00", 21), ("Logo design", "650.00", 21),
    ("Photography (hour)", "85.00", 21), ("Copywriting (page)", "120.00", 21),
    ("Translation (100 words)", "14.00", 21), ("Office chair", "289.00", 21),
    ("Standing desk", "549.00", 21), ("Monitor 27 inch", "319.00", 21),
    ("Keyboard", "79.95", 21), ("USB-C dock", "129.95", 21), ("Printer paper (box)", "34.50", 21),
    ("Coffee beans (kg)", "24.90", 9), ("Tea assortment", "12.75", 9),
    ("Lunch buffet (person)", "17.50", 9), ("Cookbook", "29.99", 9),
    ("Business handbook", "44.50", 9), ("Magazine subscription (year)", "79.00", 9),
    ("Cheese platter", "38.00", 9), ("Export shipping (parcel)", "42.00", 0),
    ("Export pallet", "310.00", 0), ("Training voucher", "250.00", 21),
    ("Legacy support plan (retired)", "99.00", 21),
]  # fmt: skip


@dataclass
class SeedResult:
    created: Counter = field(default_factory=Counter)
    users: list[tuple[str, str, str, bool]] = field(default_factory=list)  # role, email, pw, new

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())


def _contact_plan(rng: random.Random) -> list[dict]:
    plans = []
    for index, (name, city, country) in enumerate(_COMPANIES, start=1):
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
        plans.append(
            {
                "customer_number": f"DEMO-{index:03d}",
                "company_name": name,
                "email": f"administratie@{slug}.example",
                "tax_number": f"{country}{rng.randrange(10**8, 10**9)}B01",
                "chamber_of_commerce": str(rng.randrange(10**7, 10**8)),
                "city": city,
                "country": country,
            }
        )
    for index, (first, last, city, country) in enumerate(_PERSONS, start=len(plans) + 1):
        plans.append(
            {
                "customer_number": f"DEMO-{index:03d}",
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{last.lower().replace(' ', '')}@mail.example",
                "city": city,
                "country": country,
            }
        )
    for plan in plans:
        plan["phone"] = f"+31 6 {rng.randrange(10**7, 10**8)}"
        plan["address_line1"] = f"{rng.choice(_STREETS)} {rng.randrange(1, 200)}"
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTVWXZ") for _ in range(2))
        plan["postal_code"] = f"{rng.randrange(1000, 9999)} {letters}"
    return plans


def _product_plan() -> list[dict]:
    return [
        {
            "sku": f"DEMO-{index:03d}",
            "title": title,
            "price": Decimal(price),
            "rate": rate,
            "is_active": not title.endswith("(retired)"),
        }
        for index, (title, price, rate) in enumerate(_PRODUCTS, start=1)
    ]


def _invoice_plan(rng: random.Random, today: dt.date, contacts: int, products: int) -> list[dict]:
    """50 invoices in the states of INVOICE_STATES, oldest issue date first (so invoice
    numbers follow the dates)."""
    plans = []
    for state, count in INVOICE_STATES.items():
        for _ in range(count):
            if state == "late":  # due 15 to 90 days ago
                issue = today - dt.timedelta(days=rng.randrange(45, 120))
            elif state in ("open", "partly_paid", "draft"):  # due in 10 days or later
                issue = today - dt.timedelta(days=rng.randrange(0, 20))
            else:
                issue = today - dt.timedelta(days=rng.randrange(5, 150))
            lines = []
            for _ in range(rng.choice([1, 1, 2, 2, 3, 4, 5])):
                quantity = rng.choice(["1", "1", "2", "3", "5", "10", "1.5", "2.5", "8"])
                lines.append({"product": rng.randrange(products), "quantity": Decimal(quantity)})
            if rng.random() < 0.2:
                price = Decimal(rng.randrange(15, 90))
                lines.append(
                    {
                        "description": "Travel expenses",
                        "quantity": Decimal(1),
                        "unit_price": price,
                        "rate": 21,
                    }
                )
            plans.append(
                {
                    "state": state,
                    "contact": rng.randrange(contacts),
                    "issue_date": issue,
                    "due_date": issue + dt.timedelta(days=30),
                    "lines": lines,
                    "cancel_after_finalize": rng.random() < 0.5,
                    "installments": rng.choice([1, 1, 1, 2]),
                    "share": Decimal(rng.randrange(20, 80)) / 100,  # partly paid: this share
                    "method": rng.choice(PaymentMethod.values),
                }
            )
    plans.sort(key=lambda plan: plan["issue_date"])
    for index, plan in enumerate(plans, start=1):
        plan["notes"] = INVOICE_TAG.format(index) + f" Status in the demo: {plan['state']}."
    return plans


def _payment_dates(rng: random.Random, start: dt.date, end: dt.date, n: int) -> list[dt.date]:
    days = max((end - start).days, 0)
    return sorted(start + dt.timedelta(days=rng.randint(0, days)) for _ in range(n))


def _seed_users(result: SeedResult) -> None:
    existing = {
        email.lower()
        for email in User.objects.filter(
            email__in=[email for _, email, _, _ in DEMO_USERS]
        ).values_list("email", flat=True)
    }
    for role, email, name, password in DEMO_USERS:
        new = email not in existing
        if new:
            user = account_services.user_create(
                email=email, name=name, role=role, password=password
            )
            # Demo addresses cannot receive mail: verify them the way the emailed link does.
            account_services.email_verify(token=tokens.email_verification_token(user=user))
            result.created["users"] += 1
        result.users.append((role.value, email, password, new))


def _rates() -> dict[int, TaxRate]:
    rates = {}
    for rate in TaxRate.objects.filter(percentage__in=[21, 9, 0]):
        rates.setdefault(int(rate.percentage), rate)
    for percentage in (21, 9, 0):
        if percentage not in rates:
            rates[percentage] = services.taxrate_create(
                name=f"{percentage}% btw", percentage=Decimal(percentage), by=None, via=VIA
            )
    return rates


def _seed_invoice(plan: dict, *, contact, products: list[Product], rates, rng, today) -> None:
    lines = []
    for item in plan["lines"]:
        if "product" in item:
            lines.append({"product": products[item["product"]], "quantity": item["quantity"]})
        else:
            free = {k: v for k, v in item.items() if k != "rate"}
            lines.append({**free, "tax_rate": rates[item["rate"]]})
    invoice = services.invoice_create(
        contact=contact,
        lines=lines,
        issue_date=plan["issue_date"],
        due_date=plan["due_date"],
        notes=plan["notes"],
        by=None,
        via=VIA,
    )
    state = plan["state"]
    if state == "draft" or (state == "cancelled" and not plan["cancel_after_finalize"]):
        if state == "cancelled":
            services.invoice_cancel(invoice=invoice, by=None, via=VIA)
        return
    invoice = services.invoice_finalize(invoice=invoice, by=None, via=VIA)
    if state == "cancelled":
        services.invoice_cancel(invoice=invoice, by=None, via=VIA)
    elif state in ("paid", "partly_paid"):
        if state == "paid":
            installments = plan["installments"]
            amounts = [to_cents(invoice.total / installments)] * (installments - 1)
            amounts.append(invoice.total - sum(amounts, Decimal(0)))
            end = min(today, plan["due_date"] + dt.timedelta(days=10))
        else:
            amounts = [max(to_cents(invoice.total * plan["share"]), CENTS)]
            end = today
        dates = _payment_dates(rng, plan["issue_date"], end, len(amounts))
        for index, (amount, date) in enumerate(zip(amounts, dates, strict=True), start=1):
            services.payment_register(
                invoice=invoice,
                amount=amount,
                date=date,
                method=plan["method"],
                reference=f"{invoice.number} payment {index}",
                by=None,
                via=VIA,
            )


@transaction.atomic
def seed_demo(*, today: dt.date | None = None) -> SeedResult:
    """Create what is missing of the demo data set (all of it on a fresh database)."""
    today = today or timezone.localdate()
    rng = random.Random(SEED)
    result = SeedResult()
    _seed_users(result)
    rates = _rates()

    contact_plans = _contact_plan(rng)
    contacts = Contact.objects.in_bulk(
        [plan["customer_number"] for plan in contact_plans], field_name="customer_number"
    )
    for plan in contact_plans:
        if plan["customer_number"] not in contacts:
            contacts[plan["customer_number"]] = services.contact_create(**plan, by=None, via=VIA)
            result.created["contacts"] += 1
    contact_list = [contacts[plan["customer_number"]] for plan in contact_plans]

    product_plans = _product_plan()
    products = Product.objects.in_bulk([plan["sku"] for plan in product_plans], field_name="sku")
    for plan in product_plans:
        if plan["sku"] not in products:
            fields = {k: v for k, v in plan.items() if k != "rate"}
            products[plan["sku"]] = services.product_create(
                **fields, tax_rate=rates[plan["rate"]], by=None, via=VIA
            )
            result.created["products"] += 1
    product_list = [products[plan["sku"]] for plan in product_plans]

    invoice_plans = _invoice_plan(rng, today, len(contact_list), len(product_list))
    tagged = Invoice.objects.filter(notes__startswith=INVOICE_TAG_PREFIX).values_list(
        "notes", flat=True
    )
    existing_tags = {notes[: len(INVOICE_TAG.format(0))] for notes in tagged}
    for plan in invoice_plans:
        # One random stream per invoice, so a missing one is rebuilt as it was planned.
        invoice_rng = random.Random(f"{SEED}:{plan['notes']}")
        if plan["notes"][: len(INVOICE_TAG.format(0))] in existing_tags:
            continue
        _seed_invoice(
            plan,
            contact=contact_list[plan["contact"]],
            products=product_list,
            rates=rates,
            rng=invoice_rng,
            today=today,
        )
        result.created["invoices"] += 1
    return result
