"""The records benchmark's data set: 50k contacts, 5k products, 200k invoices with about
a million lines (and 90k payments), loaded with COPY whenever the bench database does not
hold exactly this data set (a marker row and the row counts). Loading empties the records
tables first, on a database named `*bench*` only. Used by `bench_records.py`."""

import datetime as dt
import json
import os
import random
import time
import uuid

import psycopg

N_CONTACTS = 50_000
N_PRODUCTS = 5_000
N_INVOICES = 200_000
LINES_PER_INVOICE = (1, 9)  # uniform: about 5 on average, a million in all
BATCH = 10_000  # invoices per COPY round
DATASET_KEY = "bench:records:v1"  # NumberSequence rows written with the data, in one commit
LINES_KEY = DATASET_KEY + ":lines"
PREFIX = "BR-"  # customer numbers and SKUs of the bench rows
# Emptied before a load (the bench database only; bench_sync does the same).
TABLES = ["records_changerecord", "records_payment", "records_invoiceline", "records_invoice",
          "records_product", "records_contact"]  # fmt: skip
SETTINGS = "bench.settings_records"

ROUNDS = 4
PAGE = 50
DEEP = 0.95
BENCH_EMAIL = "bench-records@example.com"


def _django():
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    django.setup()


# --- The data set -----------------------------------------------------------------------


def _text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


class _Table:
    """COPY into a model's table: the columns we generate, then every other concrete
    column at its model default (so fields added to the models later still load)."""

    def __init__(self, model, generated: list[str]):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(generated) - set(fields)
        assert not unknown, f"{model.__name__} has no {unknown}"
        others = [f for name, f in fields.items() if name not in generated]
        self.table = model._meta.db_table
        self.columns = [fields[name].column for name in generated] + [f.column for f in others]
        suffix = "".join("\t" + _text(f.get_default()) for f in others)
        self.suffix = suffix + "\n"

    def copy(self, cursor, rows: list[str]) -> None:
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
            copy.write(self.suffix.join(rows) + self.suffix)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _load(cursor, rng: random.Random) -> int:
    """COPY the data set; returns the number of lines."""
    from records.models import Contact, Invoice, InvoiceLine, Payment, Product, TaxRate

    rates = []
    for rate in TaxRate.objects.filter(percentage__in=[21, 9, 0]).order_by("-percentage"):
        if all(r[2] != int(rate.percentage) for r in rates):
            rates.append((str(rate.pk), rate.name, int(rate.percentage)))
    assert len(rates) == 3, "the seeded tax rates (21, 9, 0 %) are missing"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(seconds=N_INVOICES * 300)

    # Contacts: companies and persons, each created a minute after the one before.
    table = _Table(Contact, ["id", "created_at", "updated_at", "customer_number",
                             "company_name", "first_name", "last_name", "email", "city",
                             "country"])  # fmt: skip
    contact_ids, rows = [], []
    cities = ["Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven", "Gent", "Aachen"]
    for n in range(N_CONTACTS):
        pk = _uuid(rng)
        contact_ids.append(pk)
        at = (start - dt.timedelta(minutes=N_CONTACTS - n)).isoformat()
        company = f"Company {n} B.V." if n % 3 else ""
        first, last = ("", "") if company else (f"First{n}", f"Last{n}")
        rows.append("\t".join([pk, at, at, f"{PREFIX}{n:06d}", company, first, last,
                               f"contact{n}@bench.example", rng.choice(cities), "NL"]))  # fmt: skip
    table.copy(cursor, rows)

    # Products: a price and one of the three rates each.
    table = _Table(Product, ["id", "created_at", "updated_at", "sku", "title", "price",
                             "tax_rate_id"])  # fmt: skip
    products, rows = [], []
    at = start.isoformat()
    for n in range(N_PRODUCTS):
        pk = _uuid(rng)
        rate = rates[rng.choices([0, 1, 2], weights=[7, 2, 1])[0]]
        price = rng.randrange(100, 50_000)
        title = f"Product {n}"
        products.append((pk, title, price, rate))
        rows.append("\t".join([pk, at, at, f"{PREFIX}{n:05d}", title, _money(price), rate[0]]))
    table.copy(cursor, rows)

    # Invoices, their lines (totals as records/totals.py computes them: whole quantities
    # of cent prices make each line exact; tax per rate rounded half up once) and payments.
    invoices = _Table(Invoice, ["id", "created_at", "updated_at", "contact_id", "issue_date",
                                "due_date", "status", "number", "subtotal", "tax_total",
                                "total", "total_paid", "tax_breakdown", "finalized_at",
                                "paid_at", "cancelled_at"])  # fmt: skip
    lines = _Table(InvoiceLine, ["id", "invoice_id", "position", "product_id", "description",
                                 "quantity", "unit_price", "tax_rate_id", "amount"])  # fmt: skip
    payments = _Table(Payment, ["id", "invoice_id", "amount", "date", "method", "reference",
                                "created_at"])  # fmt: skip
    counters: dict[int, int] = {}
    line_count = 0
    statuses = ["draft", "open", "paid", "partly", "cancelled"]
    for batch_start in range(0, N_INVOICES, BATCH):
        invoice_rows, line_rows, payment_rows = [], [], []
        for n in range(batch_start, min(batch_start + BATCH, N_INVOICES)):
            pk = _uuid(rng)
            created = start + dt.timedelta(seconds=n * 300 + rng.randrange(300))
            issue = created.date()
            per_rate: dict[str, list] = {}
            for position in range(rng.randint(*LINES_PER_INVOICE)):
                product_id, title, price, rate = rng.choice(products)
                quantity = rng.randint(1, 10)
                amount = quantity * price
                per_rate.setdefault(rate[0], [rate, 0])[1] += amount
                line_rows.append("\t".join([_uuid(rng), pk, str(position), product_id, title,
                                            str(quantity), _money(price), rate[0],
                                            _money(amount)]))  # fmt: skip
            subtotal = tax_total = 0
            breakdown = []
            for rate, base in per_rate.values():
                tax = (base * rate[2] + 50) // 100
                subtotal += base
                tax_total += tax
                breakdown.append({"tax_rate": rate[0], "name": rate[1],
                                  "percentage": f"{rate[2]}.00", "base": _money(base),
                                  "tax": _money(tax)})  # fmt: skip
            total = subtotal + tax_total
            status = rng.choices(statuses, weights=[10, 35, 40, 5, 10])[0]
            number = finalized = paid_at = cancelled = None
            paid = 0
            if status != "draft":
                counters[issue.year] = counters.get(issue.year, 0) + 1
                number = f"{issue.year}-{counters[issue.year]:04d}"
                finalized = created + dt.timedelta(hours=1)
            if status in ("paid", "partly"):
                paid = total if status == "paid" else max(1, total * rng.randrange(20, 80) // 100)
                date = issue + dt.timedelta(days=rng.randrange(0, 40))
                payment_rows.append("\t".join([_uuid(rng), pk, _money(paid), date.isoformat(),
                                               "bank_transfer", number,
                                               created.isoformat()]))  # fmt: skip
                if status == "paid":
                    paid_at = created + dt.timedelta(days=rng.randrange(1, 40))
            elif status == "cancelled":
                cancelled = created + dt.timedelta(days=rng.randrange(1, 20))
            stored = "open" if status == "partly" else status
            at = created.isoformat()
            invoice_rows.append("\t".join([
                pk, at, at, rng.choice(contact_ids), issue.isoformat(),
                (issue + dt.timedelta(days=30)).isoformat(), stored, _text(number),
                _money(subtotal), _money(tax_total), _money(total), _money(paid),
                json.dumps(breakdown), _text(finalized), _text(paid_at), _text(cancelled),
            ]))  # fmt: skip
        invoices.copy(cursor, invoice_rows)
        lines.copy(cursor, line_rows)
        line_count += len(line_rows)
        if payment_rows:
            payments.copy(cursor, payment_rows)
    # Later finalizes in this database continue the numbering.
    for year, value in counters.items():
        _set_sequence(cursor, f"invoice:{year}", value, keep_higher=True)
    return line_count


def _set_sequence(cursor, key: str, value: int, *, keep_higher: bool = False) -> None:
    new = "GREATEST(records_numbersequence.last_value, EXCLUDED.last_value)" if keep_higher else (
        "EXCLUDED.last_value"
    )  # fmt: skip
    cursor.execute(
        "INSERT INTO records_numbersequence (key, last_value) VALUES (%s, %s) "
        f"ON CONFLICT (key) DO UPDATE SET last_value = {new}",
        [key, value],
    )


def _intact() -> bool:
    """The data set is there, whole and alone: other suites (bench_sync) empty these
    tables or add their own rows, which would change what the list shows."""
    from records.models import Invoice, InvoiceLine, NumberSequence

    markers = dict(
        NumberSequence.objects.filter(key__startswith=DATASET_KEY).values_list("key", "last_value")
    )
    return (
        markers.get(DATASET_KEY) == N_INVOICES == Invoice.objects.count()
        and markers.get(LINES_KEY) == InvoiceLine.objects.count()
    )


def ensure_dataset() -> str:
    """Load the data set unless the bench database holds it; says which, and how long."""
    from django.db import connection, transaction

    if _intact():
        return f"data set present ({N_INVOICES:,} invoices), not reloaded"
    name = connection.settings_dict["NAME"]
    if "bench" not in name:
        raise SystemExit(f"bench_records empties the records tables: refusing on {name!r}")
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        # Generated rows are consistent by construction: skip the per-row foreign key
        # triggers (superuser only; otherwise the deferred checks run at commit).
        try:
            with transaction.atomic():
                raw.execute("SET LOCAL session_replication_role = replica")
        except psycopg.Error:
            pass
        raw.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        lines = _load(raw, random.Random(2026))
        _set_sequence(raw, DATASET_KEY, N_INVOICES)
        _set_sequence(raw, LINES_KEY, lines)
    loaded = time.perf_counter() - began
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    total = time.perf_counter() - began
    return (
        f"data set loaded with COPY in {loaded:.1f}s (+{total - loaded:.1f}s VACUUM ANALYZE): "
        f"{N_CONTACTS:,} contacts, {N_PRODUCTS:,} products, {N_INVOICES:,} invoices, "
        f"{lines:,} lines"
    )


# --- The measurements -------------------------------------------------------------------
