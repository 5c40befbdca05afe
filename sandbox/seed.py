"""Seed data: the demo administration, and bulk records for benchmarks."""

from decimal import Decimal

from .clock import iso_timestamp
from .store import Administration, Store, creditor_reference, money

DEFAULT_ADMINISTRATION_ID = "412345678901234567"


def administration_create(
    store: Store, *, admin_id: str = DEFAULT_ADMINISTRATION_ID, demo: bool = True
) -> Administration:
    """An administration with workflow, tax rates and ledger accounts; with `demo`,
    also a few contacts and products."""
    admin = Administration(id=admin_id)
    store.administrations[admin_id] = admin
    admin.workflow_id = store.new_id()
    admin.document_style_id = store.new_id()
    admin.identity_id = store.new_id()
    now = iso_timestamp(store.clock.now())
    for name, pct in (("21% btw", "21.0"), ("9% btw", "9.0"), ("0% btw", "0.0")):
        rate_id = store.new_id()
        admin.tax_rates[rate_id] = {
            "id": rate_id,
            "administration_id": admin.admin_int,
            "name": name,
            "percentage": pct,
            "tax_rate_type": "sales_invoice",
            "show_tax": True,
            "active": True,
            "country": None,
            "created_at": now,
            "updated_at": now,
        }
        admin.default_tax_rate_id = admin.default_tax_rate_id or rate_id
    # RGS taxonomy items as Moneybird's own examples show them (RGS 3.5).
    for name, account_type, number, (code, rgs_name, reference) in (
        ("Omzet", "revenue", "8000", ("WOmzNooNdo", "Opbrengsten uit overige bronnen", "8004040")),
        (
            "Omzet diensten",
            "revenue",
            "8010",
            ("WOmzNooNdo", "Opbrengsten uit overige bronnen", "8004040"),
        ),
        (
            "Debiteuren",
            "current_assets",
            "1300",
            ("BVorDebHad", "Handelsdebiteuren nominaal", "1101010"),
        ),
        ("Kas", "current_assets", "1000", ("BLimKruSto", "Stortingen onderweg", "1003010")),
    ):
        account_id = store.new_id()
        admin.ledger_accounts[account_id] = {
            "id": account_id,
            "administration_id": admin.admin_int,
            "name": name,
            "account_type": account_type,
            "account_id": number,
            "parent_id": None,
            "allowed_document_types": ["sales_invoice", "general_journal_document"],
            "created_at": now,
            "updated_at": now,
            "taxonomy_item": {
                "taxonomy_version": "3.5",
                "code": code,
                "name": rgs_name,
                "name_english": None,
                "reference": reference,
            },
            "financial_account_id": None,
        }
        if number == "8000":
            admin.revenue_ledger_account_id = account_id
        if number == "1000":
            admin.payments_ledger_account_id = account_id
    if demo:
        for attrs in (
            {
                "company_name": "Foobar Holding B.V.",
                "address1": "Hoofdstraat 12",
                "zipcode": "1234AB",
                "city": "Amsterdam",
                "send_invoices_to_email": "info@example.com",
            },
            {
                "company_name": "Parkietje B.V.",
                "city": "Utrecht",
                "send_invoices_to_email": "administratie@example.com",
            },
            {"firstname": "Jan", "lastname": "Janssen", "city": "Rotterdam"},
        ):
            store.contact_create(admin, attrs, check_limit=False)
        for title, price, identifier in (
            ("Consultancy per uur", "95.00", "CONSULT-H"),
            ("Support abonnement", "49.50", "SUPPORT-M"),
        ):
            store.product_create(
                admin,
                {
                    "title": title,
                    "price": price,
                    "identifier": identifier,
                    "tax_rate_id": admin.default_tax_rate_id,
                    "ledger_account_id": admin.revenue_ledger_account_id,
                },
            )
    return admin


def bulk_seed(
    store: Store, admin: Administration, *, contacts: int = 0, sales_invoices: int = 0
) -> dict:
    """Add many records fast (no per-record validation): `contacts` new contacts and
    `sales_invoices` open invoices spread over all contacts, every third one paid."""
    now_epoch = store.clock.now()
    now = iso_timestamp(now_epoch)
    version = int(now_epoch)
    for _ in range(contacts):
        while str(admin.next_customer_id) in admin.contacts_by_customer_id:
            admin.next_customer_id += 1
        customer_id = str(admin.next_customer_id)
        contact_id = store.new_id()
        admin.contacts[contact_id] = {
            "id": contact_id,
            "customer_id": customer_id,
            "company_name": f"Bulk {customer_id} B.V.",
            "created_at": now,
            "updated_at": now,
            "version": version,
        }
        admin.contacts_by_customer_id[customer_id] = contact_id
        admin.next_customer_id += 1
    contact_ids = list(admin.contacts)
    if sales_invoices and not contact_ids:
        raise ValueError("sales invoices need at least one contact")
    today = store.clock.today()
    year = today.year
    for n in range(sales_invoices):
        invoice_id = store.new_id()
        number = admin.invoice_counters.get(year, 0) + 1
        admin.invoice_counters[year] = number
        reference = f"BULK-{invoice_id}"
        record = {
            "id": invoice_id,
            "contact_id": contact_ids[n % len(contact_ids)],
            "state": "open",
            "invoice_id": f"{year}-{number:04d}",
            "reference": reference,
            "invoice_date": today.isoformat(),
            "first_due_interval": 14,
            "currency": "EUR",
            "prices_are_incl_tax": False,
            "discount": Decimal(0),
            "payment_conditions": "",
            "details": [
                {
                    "id": store.new_id(),
                    "description": "Bulk line",
                    "amount": "1",
                    "price": Decimal(100 + n % 900),
                    "tax_rate_id": admin.default_tax_rate_id,
                    "product_id": None,
                    "ledger_account_id": admin.revenue_ledger_account_id,
                    "row_order": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
            "payments": [],
            "sent_at": today.isoformat(),
            "paid_at": None,
            "_events": [],
            "_payment_reference": creditor_reference(int(invoice_id)),
            "created_at": now,
            "updated_at": now,
            "version": version,
        }
        admin.invoices[invoice_id] = record
        admin.invoices_by_reference.setdefault(reference, []).append(invoice_id)
        if n % 3 == 2:
            total = store.invoice_totals(admin, record)["incl"]
            payment_id = store.new_id()
            record["payments"].append(
                {
                    "id": payment_id,
                    "administration_id": admin.admin_int,
                    "invoice_type": "SalesInvoice",
                    "invoice_id": invoice_id,
                    "financial_account_id": None,
                    "user_id": 17708929261250,
                    "payment_transaction_id": None,
                    "transaction_identifier": None,
                    "price": money(total),
                    "price_base": money(total),
                    "payment_date": today.isoformat(),
                    "credit_invoice_id": None,
                    "financial_mutation_id": None,
                    "ledger_account_id": admin.payments_ledger_account_id,
                    "linked_payment_id": None,
                    "manual_payment_action": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            admin.payments[payment_id] = invoice_id
            record["state"] = "paid"
            record["paid_at"] = today.isoformat()
    return {"contacts": len(admin.contacts), "sales_invoices": len(admin.invoices)}
