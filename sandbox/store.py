"""The sandbox's in-memory store: one or more administrations, keyed dicts, no database.

Records are kept sparse (only the fields that differ from Moneybird's defaults) and
turned into Moneybird's full response shape when served, so 50k contacts stay small.
Every lookup the emulated endpoints need is a dict access: by id, by `customer_id`,
by product `identifier`, by invoice `reference`; nothing scans a whole collection
except the listings themselves.

Deviation from Moneybird, on purpose: `version` is the Unix time of the last change
but never goes backwards or stays equal on a change (`max(now, old + 1)`), so two
changes within one second are still two versions a sync can tell apart.
"""

import hashlib
import io
import itertools
import pickle
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .clock import Clock, iso_timestamp
from .errors import invalid, not_found, symbolic

ALL_SCOPES = frozenset(
    {"sales_invoices", "documents", "estimates", "bank", "time_entries", "settings"}
)
USER_ID = 17708929261250
CENTS = Decimal("0.01")
DELIVERY_METHODS = {"Email", "Post", "Manual", "Simplerinvoicing", "Peppol"}

CONTACT_DEFAULTS = {
    "company_name": "",
    "firstname": "",
    "lastname": "",
    "address1": "",
    "address2": "",
    "zipcode": "",
    "city": "",
    "country": "NL",
    "phone": "",
    "delivery_method": "Email",
    "customer_id": "",
    "tax_number": "",
    "chamber_of_commerce": "",
    "bank_account": "",
    "is_trusted": False,
    "max_transfer_amount": None,
    "attention": "",
    "email": "",
    "email_ubl": True,
    "send_invoices_to_attention": "",
    "send_invoices_to_email": "",
    "send_estimates_to_attention": "",
    "send_estimates_to_email": "",
    "sepa_active": False,
    "sepa_iban": "",
    "sepa_iban_account_name": "",
    "sepa_bic": "",
    "sepa_mandate_id": "",
    "sepa_mandate_date": None,
    "sepa_sequence_type": "RCUR",
    "credit_card_number": "",
    "credit_card_reference": "",
    "credit_card_type": None,
    "tax_number_validated_at": None,
    "tax_number_valid": None,
    "invoice_workflow_id": None,
    "estimate_workflow_id": None,
    "si_identifier": "",
    "si_identifier_type": None,
    "moneybird_payments_mandate": False,
}
CONTACT_WRITABLE = set(CONTACT_DEFAULTS) - {
    "is_trusted",
    "max_transfer_amount",
    "email",
    "credit_card_number",
    "credit_card_reference",
    "credit_card_type",
    "tax_number_validated_at",
    "tax_number_valid",
    "moneybird_payments_mandate",
    "attention",
}
PRODUCT_WRITABLE = {
    "title",
    "description",
    "price",
    "currency",
    "identifier",
    "tax_rate_id",
    "ledger_account_id",
    "frequency",
    "frequency_type",
}
INVOICE_WRITABLE = {
    "contact_id",
    "reference",
    "invoice_date",
    "first_due_interval",
    "currency",
    "prices_are_incl_tax",
    "payment_conditions",
    "discount",
    "details_attributes",
}
PAYMENT_CONDITIONS = (
    "We verzoeken u vriendelijk het bovenstaande bedrag van {document.total_price} voor "
    "{document.due_date} te voldoen op onze bankrekening onder vermelding van de omschrijving "
    "{document.payment_reference}. Voor vragen kunt u contact opnemen per e-mail."
)


def money(value: Decimal) -> str:
    """Moneybird's decimal strings: `300.0`, `241.99`, `-363.0` (at least one decimal)."""
    text = f"{value.quantize(CENTS, rounding=ROUND_HALF_UP):f}"
    return text[:-1] if text.endswith("0") else text


def parse_decimal(value, field_name: str) -> Decimal:
    """Amounts arrive as numbers or strings (`"12,50"` and `"12.50"` both mean 12.50)."""
    if isinstance(value, bool) or value is None:
        raise invalid({field_name: ["is not a number"]})
    try:
        result = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise invalid({field_name: ["is not a number"]}) from None
    if not result.is_finite():
        raise invalid({field_name: ["is not a number"]})
    return result


def parse_date(value, field_name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise invalid({field_name: ["is invalid"]}) from None


def creditor_reference(seed: int) -> tuple[str, str]:
    """An ISO 11649 creditor reference (RF + check digits), long and short form."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    body = ""
    n = seed % (36**8) or 1
    while n:
        n, r = divmod(n, 36)
        body = alphabet[r] + body
    numeric = "".join(str(int(c, 36)) for c in body + "RF00")
    check = f"{98 - int(numeric) % 97:02d}"
    return f"RF{check}{body.zfill(21)}", f"RF{check}{body}"


@dataclass
class Administration:
    """One Moneybird administration and every record in it."""

    id: str
    name: str = "Ledgerbridge Sandbox B.V."
    contacts: dict[str, dict] = field(default_factory=dict)
    contacts_by_customer_id: dict[str, str] = field(default_factory=dict)
    products: dict[str, dict] = field(default_factory=dict)
    products_by_identifier: dict[str, str] = field(default_factory=dict)
    tax_rates: dict[str, dict] = field(default_factory=dict)
    ledger_accounts: dict[str, dict] = field(default_factory=dict)
    invoices: dict[str, dict] = field(default_factory=dict)
    invoices_by_reference: dict[str, list[str]] = field(default_factory=dict)
    payments: dict[str, str] = field(default_factory=dict)  # payment id -> invoice id
    invoice_counters: dict[int, int] = field(default_factory=dict)
    next_customer_id: int = 1
    workflow_id: str = ""
    document_style_id: str = ""
    identity_id: str = ""
    revenue_ledger_account_id: str = ""
    payments_ledger_account_id: str = ""
    default_tax_rate_id: str = ""
    max_contacts: int | None = None
    max_sales_invoices: int | None = None

    @property
    def admin_int(self) -> int:
        return int(self.id)


FIRST_ID = 478856351389321139


class _SnapshotUnpickler(pickle.Unpickler):
    """Unpickles only what a store snapshot contains; anything else is refused."""

    ALLOWED = {("decimal", "Decimal"), (__name__, "Administration")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a sandbox snapshot")


class Store:
    """All sandbox state. One lock: handlers are short, dict-based and never wait inside it."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.administrations: dict[str, Administration] = {}
        self.tokens: dict[str, frozenset[str]] = {}
        self._ids = itertools.count(FIRST_ID)

    # --- plumbing -------------------------------------------------------------
    def new_id(self) -> str:
        return str(next(self._ids))

    # --- a snapshot on disk (`run_sandbox --data-file`, as `make run` uses it) -------
    def snapshot(self) -> bytes:
        """Everything but tokens, as bytes for `restore` (call with the lock held).

        Pickle keeps the records exactly as they are (Decimals, tuples, int keys); the
        file is the sandbox's own private state, and `restore` only unpickles the few
        types a store holds (`_SnapshotUnpickler`), so a tampered file cannot run code.
        """
        next_id = next(self._ids)
        self._ids = itertools.count(next_id)
        state = {"format": 1, "next_id": next_id, "administrations": self.administrations}
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, data: bytes) -> None:
        """Replace the records with a `snapshot()`'s (tokens stay as they are)."""
        try:
            state = _SnapshotUnpickler(io.BytesIO(data)).load()
        except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as exc:
            raise ValueError(f"not a sandbox snapshot: {exc}") from exc
        if not isinstance(state, dict) or state.get("format") != 1:
            raise ValueError("unknown sandbox snapshot format")
        with self.lock:
            self.administrations = state["administrations"]
            self._ids = itertools.count(int(state["next_id"]))

    def stamp(self, record: dict, *, created: bool = False) -> None:
        now = self.clock.now()
        record["updated_at"] = iso_timestamp(now)
        if created:
            record["created_at"] = record["updated_at"]
            record["version"] = int(now)
        else:
            record["version"] = max(int(now), record.get("version", 0) + 1)

    def administration(self, admin_id: str) -> Administration:
        admin = self.administrations.get(admin_id)
        if admin is None:
            raise symbolic(404, "Administration not found", administration="not_found")
        return admin

    def add_token(self, token: str, scopes=ALL_SCOPES) -> None:
        self.tokens[token] = frozenset(scopes)

    # --- contacts -------------------------------------------------------------
    def contact_create(self, admin: Administration, attrs: dict, *, check_limit=True) -> dict:
        if (
            check_limit
            and admin.max_contacts is not None
            and len(admin.contacts) >= admin.max_contacts
        ):
            raise symbolic(402, "creating contacts is limited", administration="limit_reached")
        record = {"id": self.new_id()}
        self._contact_assign(admin, record, attrs, creating=True)
        self.stamp(record, created=True)
        admin.contacts[record["id"]] = record
        admin.contacts_by_customer_id[record["customer_id"]] = record["id"]
        return record

    def contact_update(self, admin: Administration, contact_id: str, attrs: dict) -> dict:
        record = self.contact_get(admin, contact_id)
        old_customer_id = record["customer_id"]
        self._contact_assign(admin, record, attrs, creating=False)
        if record["customer_id"] != old_customer_id:
            del admin.contacts_by_customer_id[old_customer_id]
            admin.contacts_by_customer_id[record["customer_id"]] = record["id"]
        self.stamp(record)
        record.setdefault("_events", []).append(("contact_updated", record["updated_at"]))
        return record

    def _contact_assign(self, admin: Administration, record: dict, attrs: dict, *, creating: bool):
        changes = {k: v for k, v in attrs.items() if k in CONTACT_WRITABLE}
        errors: dict[str, list[str]] = {}
        details: dict[str, list[dict]] = {}
        for key, value in changes.items():
            if key in ("sepa_active", "email_ubl"):
                changes[key] = value in (True, "true", "1", 1)
            elif value is not None and not isinstance(value, str):
                changes[key] = str(value)
        merged = {**CONTACT_DEFAULTS, **record, **changes}
        if not (merged["company_name"] or merged["firstname"] or merged["lastname"]):
            for name in ("firstname", "lastname", "company_name"):
                errors[name] = ["is required"]
                details[name] = [{"error": "is required"}]
        if merged["delivery_method"] not in DELIVERY_METHODS:
            errors["delivery_method"] = ["is not included in the list"]
            details["delivery_method"] = [
                {"error": "inclusion", "value": merged["delivery_method"]}
            ]
        for key in ("send_invoices_to_email", "send_estimates_to_email"):
            value = merged[key]
            if value and ("@" not in value or " " in value.strip()):
                errors[key] = ["is invalid"]
                details[key] = [{"error": "invalid", "value": value}]
        customer_id = changes.get("customer_id")
        if creating and not customer_id:
            while str(admin.next_customer_id) in admin.contacts_by_customer_id:
                admin.next_customer_id += 1
            customer_id = str(admin.next_customer_id)
            changes["customer_id"] = customer_id
        if customer_id is not None:
            owner = admin.contacts_by_customer_id.get(customer_id)
            if owner is not None and owner != record["id"]:
                errors["customer_id"] = ["is already in use"]
                details["customer_id"] = [{"error": "taken", "value": customer_id}]
            elif not customer_id:
                errors["customer_id"] = ["can't be blank"]
                details["customer_id"] = [{"error": "blank"}]
        if errors:
            raise invalid(errors, details)
        if customer_id and customer_id.isdigit():
            admin.next_customer_id = max(admin.next_customer_id, int(customer_id) + 1)
        if "send_invoices_to_email" in changes:
            changes["email"] = changes["send_invoices_to_email"]
        record.update(changes)

    def contact_get(self, admin: Administration, contact_id: str) -> dict:
        record = admin.contacts.get(contact_id)
        if record is None:
            raise not_found("Contact")
        return record

    def contact_delete(self, admin: Administration, contact_id: str) -> None:
        record = self.contact_get(admin, contact_id)
        del admin.contacts[contact_id]
        admin.contacts_by_customer_id.pop(record["customer_id"], None)

    def contact_json(self, admin: Administration, record: dict, *, events: bool = True) -> dict:
        out = {"id": record["id"], "administration_id": admin.admin_int, **CONTACT_DEFAULTS}
        out.update((k, v) for k, v in record.items() if not k.startswith("_"))
        digest = hashlib.sha256(f"{admin.id}:{record['id']}".encode()).hexdigest()
        out["sales_invoices_url"] = (
            f"https://moneybird.sandbox/{admin.id}/sales_invoices/{digest}/all"
        )
        out["notes"] = []
        out["custom_fields"] = []
        out["contact_people"] = []
        out["archived"] = False
        if events:
            history = [("contact_created", record["created_at"]), *record.get("_events", ())]
            out["events"] = [self._event(admin, action, at) for action, at in history]
        return out

    def _event(self, admin: Administration, action: str, at: str, data=None) -> dict:
        return {
            "administration_id": admin.admin_int,
            "user_id": USER_ID,
            "action": action,
            "link_entity_id": None,
            "link_entity_type": None,
            "data": data or {},
            "created_at": at,
            "updated_at": at,
        }

    # --- products -------------------------------------------------------------
    def product_create(self, admin: Administration, attrs: dict) -> dict:
        for required in ("price", "ledger_account_id"):
            if attrs.get(required) in (None, ""):
                raise symbolic(400, f"{required} is missing", **{required: "required"})
        record = {
            "id": self.new_id(),
            "currency": "EUR",
            "tax_rate_id": None,
            "title": None,
            "description": "",
            "identifier": None,
            "frequency": None,
            "frequency_type": None,
        }
        self._product_assign(admin, record, attrs)
        self.stamp(record, created=True)
        admin.products[record["id"]] = record
        if record["identifier"]:
            admin.products_by_identifier[record["identifier"]] = record["id"]
        return record

    def product_update(self, admin: Administration, product_id: str, attrs: dict) -> dict:
        record = self.product_get(admin, product_id)
        old = record["identifier"]
        self._product_assign(admin, record, attrs)
        if record["identifier"] != old:
            admin.products_by_identifier.pop(old, None)
            if record["identifier"]:
                admin.products_by_identifier[record["identifier"]] = record["id"]
        self.stamp(record)
        return record

    def _product_assign(self, admin: Administration, record: dict, attrs: dict) -> None:
        changes = {k: v for k, v in attrs.items() if k in PRODUCT_WRITABLE}
        errors: dict[str, list[str]] = {}
        if "price" in changes:
            changes["price"] = money(parse_decimal(changes["price"], "price"))
        for key, table in (
            ("ledger_account_id", admin.ledger_accounts),
            ("tax_rate_id", admin.tax_rates),
        ):
            if changes.get(key) is not None:
                changes[key] = str(changes[key])
                if changes[key] not in table:
                    errors[key] = ["does not exist"]
        identifier = changes.get("identifier")
        if identifier:
            owner = admin.products_by_identifier.get(identifier)
            if owner is not None and owner != record["id"]:
                errors["identifier"] = ["is already in use"]
        if errors:
            raise invalid(errors)
        record.update(changes)

    def product_get(self, admin: Administration, product_id: str) -> dict:
        record = admin.products.get(product_id)
        if record is None:
            raise not_found("Product")
        return record

    def product_json(self, admin: Administration, record: dict) -> dict:
        out = {k: v for k, v in record.items() if k != "version"}
        out["administration_id"] = admin.admin_int
        return out

    # --- sales invoices -------------------------------------------------------
    def invoice_create(self, admin: Administration, attrs: dict) -> dict:
        if admin.max_sales_invoices is not None and len(admin.invoices) >= admin.max_sales_invoices:
            raise symbolic(
                402, "creating sales invoices is limited", administration="limit_reached"
            )
        contact_id = attrs.get("contact_id")
        if contact_id in (None, ""):
            raise invalid({"contact": ["is required"]})
        if str(contact_id) not in admin.contacts:
            raise symbolic(404, "Contact not found", contact_id="not_found")
        today = self.clock.today()
        record = {
            "id": self.new_id(),
            "contact_id": str(contact_id),
            "state": "draft",
            "invoice_id": None,
            "reference": "",
            "invoice_date": today.isoformat(),
            "first_due_interval": 14,
            "currency": "EUR",
            "prices_are_incl_tax": False,
            "discount": Decimal(0),
            "payment_conditions": PAYMENT_CONDITIONS,
            "details": [],
            "payments": [],
            "sent_at": None,
            "paid_at": None,
            "_events": [],
        }
        self._invoice_assign(admin, record, attrs)
        self.stamp(record, created=True)
        record["_events"].append(("sales_invoice_created", record["created_at"]))
        admin.invoices[record["id"]] = record
        admin.invoices_by_reference.setdefault(record["reference"], []).append(record["id"])
        return record

    def invoice_update(self, admin: Administration, invoice_id: str, attrs: dict) -> dict:
        record = self.invoice_get(admin, invoice_id)
        old_reference = record["reference"]
        if "contact_id" in attrs and str(attrs["contact_id"]) not in admin.contacts:
            raise symbolic(404, "Contact not found", contact_id="not_found")
        self._invoice_assign(admin, record, attrs)
        if record["reference"] != old_reference:
            admin.invoices_by_reference[old_reference].remove(record["id"])
            admin.invoices_by_reference.setdefault(record["reference"], []).append(record["id"])
        self.stamp(record)
        record["_events"].append(("sales_invoice_updated", record["updated_at"]))
        return record

    def _invoice_assign(self, admin: Administration, record: dict, attrs: dict) -> None:
        changes = {k: v for k, v in attrs.items() if k in INVOICE_WRITABLE}
        if "invoice_date" in changes:
            changes["invoice_date"] = parse_date(
                changes["invoice_date"], "invoice_date"
            ).isoformat()
        if "first_due_interval" in changes:
            try:
                changes["first_due_interval"] = int(changes["first_due_interval"])
            except (TypeError, ValueError):
                raise invalid({"first_due_interval": ["is not a number"]}) from None
        if "discount" in changes:
            changes["discount"] = parse_decimal(changes["discount"] or 0, "discount")
        if "prices_are_incl_tax" in changes:
            changes["prices_are_incl_tax"] = changes["prices_are_incl_tax"] in (True, "true", "1")
        if "contact_id" in changes:
            changes["contact_id"] = str(changes["contact_id"])
        if "reference" in changes:
            changes["reference"] = str(changes["reference"] or "")
        details = record["details"]
        if "details_attributes" in changes:
            details = self._details_apply(admin, details, changes.pop("details_attributes"))
        record.update(changes)
        record["details"] = details

    def _details_apply(self, admin: Administration, details: list, given) -> list:
        if isinstance(given, dict):
            given = list(given.values())
        if not isinstance(given, list) or not all(isinstance(d, dict) for d in given):
            raise symbolic(400, "details_attributes is invalid", details_attributes="invalid")
        details = [dict(d) for d in details]
        by_id = {d["id"]: d for d in details}
        for attrs in given:
            existing = by_id.get(str(attrs.get("id"))) if attrs.get("id") is not None else None
            if attrs.get("id") is not None and existing is None:
                raise invalid({"details": ["is invalid"]})
            if attrs.get("_destroy") in (True, "true", "1", 1):
                details.remove(existing)
                continue
            detail = (
                existing
                if existing is not None
                else {
                    "id": self.new_id(),
                    "description": "",
                    "amount": "1",
                    "price": Decimal(0),
                    "tax_rate_id": admin.default_tax_rate_id,
                    "product_id": None,
                    "ledger_account_id": admin.revenue_ledger_account_id,
                    "row_order": None,
                    "created_at": iso_timestamp(self.clock.now()),
                }
            )
            product = None
            if attrs.get("product_id") is not None:
                product = admin.products.get(str(attrs["product_id"]))
                if product is None:
                    raise invalid({"details.product": ["does not exist"]})
                detail.update(
                    product_id=product["id"],
                    description=product.get("title") or "",
                    price=Decimal(product["price"]),
                )
                detail["tax_rate_id"] = product.get("tax_rate_id") or detail["tax_rate_id"]
                detail["ledger_account_id"] = product["ledger_account_id"]
            if "description" in attrs:
                detail["description"] = str(attrs["description"] or "")
            if "price" in attrs:
                detail["price"] = parse_decimal(attrs["price"], "details.price")
            if "amount" in attrs:
                amount = str(attrs["amount"]).strip().removesuffix("x").strip()
                parse_decimal(amount, "details.amount")
                detail["amount"] = amount
            for key, table in (
                ("tax_rate_id", admin.tax_rates),
                ("ledger_account_id", admin.ledger_accounts),
            ):
                if attrs.get(key) is not None:
                    if str(attrs[key]) not in table:
                        raise invalid({f"details.{key.removesuffix('_id')}": ["does not exist"]})
                    detail[key] = str(attrs[key])
            if "row_order" in attrs:
                detail["row_order"] = int(attrs["row_order"])
            detail["updated_at"] = iso_timestamp(self.clock.now())
            if existing is None:
                details.append(detail)
        for index, detail in enumerate(details, start=1):
            detail["row_order"] = detail["row_order"] or index
        return details

    def invoice_get(self, admin: Administration, invoice_id: str) -> dict:
        record = admin.invoices.get(invoice_id)
        if record is None:
            raise not_found("SalesInvoice")
        return record

    def invoice_delete(self, admin: Administration, invoice_id: str) -> None:
        record = self.invoice_get(admin, invoice_id)
        if record["payments"]:
            raise symbolic(400, "Sales invoice has payments", sales_invoice="has_payments")
        del admin.invoices[invoice_id]
        admin.invoices_by_reference[record["reference"]].remove(invoice_id)

    def invoice_send(self, admin: Administration, invoice_id: str, sending: dict) -> dict:
        record = self.invoice_get(admin, invoice_id)
        if not record["details"]:
            raise invalid({"details": ["can't be blank"]})
        method = sending.get("delivery_method")
        if method is not None and method not in DELIVERY_METHODS:
            raise invalid({"delivery_method": ["is not included in the list"]})
        if record["state"] == "draft":
            if sending.get("invoice_date"):
                record["invoice_date"] = parse_date(
                    sending["invoice_date"], "invoice_date"
                ).isoformat()
            year = date.fromisoformat(record["invoice_date"]).year
            number = admin.invoice_counters.get(year, 0) + 1
            admin.invoice_counters[year] = number
            record["invoice_id"] = f"{year}-{number:04d}"
            record["state"] = "open"
            record["sent_at"] = self.clock.today().isoformat()
            record["_payment_reference"] = creditor_reference(int(record["id"]))
            record["_events"].append(
                ("sales_invoice_state_changed_to_open", iso_timestamp(self.clock.now()))
            )
        self.stamp(record)
        record["_events"].append(("sales_invoice_send_email", record["updated_at"]))
        return record

    def invoice_mark_uncollectible(self, admin: Administration, invoice_id: str) -> dict:
        """A person writes a sent, unpaid invoice off (state `uncollectible`)."""
        record = self.invoice_get(admin, invoice_id)
        if record["state"] in ("draft", "paid", "uncollectible"):
            raise symbolic(422, "Invoice cannot be marked uncollectible", state="invalid")
        record["state"] = "uncollectible"
        record["_uncollectible_on"] = self.clock.today().isoformat()
        self.stamp(record)
        record["_events"].append(
            ("sales_invoice_state_changed_to_uncollectible", record["updated_at"])
        )
        return record

    def payment_create(self, admin: Administration, invoice_id: str, attrs: dict) -> dict:
        record = self.invoice_get(admin, invoice_id)
        for required in ("payment_date", "price"):
            if attrs.get(required) in (None, ""):
                raise symbolic(400, f"{required} is missing", **{required: "required"})
        if record["state"] == "draft":
            raise symbolic(422, "Invoice is not open", invoice="not_open")
        price = parse_decimal(attrs["price"], "price")
        price_base = parse_decimal(attrs.get("price_base", price), "price_base")
        when = parse_date(attrs["payment_date"], "payment_date")
        now = iso_timestamp(self.clock.now())
        payment = {
            "id": self.new_id(),
            "administration_id": admin.admin_int,
            "invoice_type": "SalesInvoice",
            "invoice_id": record["id"],
            "financial_account_id": None,
            "user_id": USER_ID,
            "payment_transaction_id": None,
            "transaction_identifier": attrs.get("transaction_identifier"),
            "price": money(price),
            "price_base": money(price_base),
            "payment_date": when.isoformat(),
            "credit_invoice_id": None,
            "financial_mutation_id": None,
            "ledger_account_id": admin.payments_ledger_account_id,
            "linked_payment_id": None,
            "manual_payment_action": attrs.get("manual_payment_action"),
            "created_at": now,
            "updated_at": now,
        }
        record["payments"].append(payment)
        admin.payments[payment["id"]] = record["id"]
        self._settle(admin, record, when)
        self.stamp(record)
        return payment

    def payment_delete(self, admin: Administration, invoice_id: str, payment_id: str) -> None:
        record = self.invoice_get(admin, invoice_id)
        if admin.payments.get(payment_id) != invoice_id:
            raise not_found("Payment")
        record["payments"] = [p for p in record["payments"] if p["id"] != payment_id]
        del admin.payments[payment_id]
        self._settle(admin, record, None)
        self.stamp(record)

    def payment_get(self, admin: Administration, payment_id: str) -> dict:
        invoice_id = admin.payments.get(payment_id)
        if invoice_id is None:
            raise not_found("Payment")
        return next(p for p in admin.invoices[invoice_id]["payments"] if p["id"] == payment_id)

    def _settle(self, admin: Administration, record: dict, when: date | None) -> None:
        totals = self.invoice_totals(admin, record)
        if totals["unpaid"] <= 0 and totals["incl"] != 0:
            if record["state"] != "paid":
                record["paid_at"] = (when or self.clock.today()).isoformat()
            record["state"] = "paid"
        elif record["state"] == "paid":
            record["state"] = "open"
            record["paid_at"] = None

    # --- totals and serialization ---------------------------------------------
    def invoice_totals(self, admin: Administration, record: dict) -> dict:
        """Per line `price x amount`, less the invoice discount, rounded to cents;
        tax per tax rate on the summed taxable amounts (as Moneybird does), half up."""
        factor = 1 - record["discount"] / 100
        taxable: dict[str, Decimal] = {}
        lines = []
        discount_total = Decimal(0)
        for detail in record["details"]:
            gross = (detail["price"] * Decimal(detail["amount"])).quantize(CENTS, ROUND_HALF_UP)
            net = (gross * factor).quantize(CENTS, ROUND_HALF_UP)
            discount_total += gross - net
            lines.append(net)
            taxable[detail["tax_rate_id"]] = taxable.get(detail["tax_rate_id"], Decimal(0)) + net
        tax_totals = []
        excl = Decimal(0)
        tax = Decimal(0)
        for rate_id, amount in taxable.items():
            rate = admin.tax_rates.get(rate_id)
            pct = Decimal(rate["percentage"]) if rate else Decimal(0)
            if record["prices_are_incl_tax"]:
                rate_tax = (amount * pct / (100 + pct)).quantize(CENTS, ROUND_HALF_UP)
                base = amount - rate_tax
            else:
                rate_tax = (amount * pct / 100).quantize(CENTS, ROUND_HALF_UP)
                base = amount
            excl += base
            tax += rate_tax
            tax_totals.append((rate_id, base, rate_tax))
        paid = sum((Decimal(p["price"]) for p in record["payments"]), Decimal(0))
        incl = excl + tax
        return {
            "lines": lines,
            "excl": excl,
            "incl": incl,
            "tax_totals": tax_totals,
            "paid": paid,
            "unpaid": incl - paid,
            "discount": discount_total,
        }

    def invoice_due_date(self, record: dict) -> date:
        invoice_date = date.fromisoformat(record["invoice_date"])
        return invoice_date + timedelta(days=record["first_due_interval"])

    def invoice_state(self, record: dict) -> str:
        """`late` is derived: an open invoice past its due date (no version change)."""
        if record["state"] == "open" and self.invoice_due_date(record) < self.clock.today():
            return "late"
        return record["state"]

    def invoice_json(self, admin: Administration, record: dict) -> dict:
        totals = self.invoice_totals(admin, record)
        due = self.invoice_due_date(record)
        state = self.invoice_state(record)
        reference, short = record.get("_payment_reference") or (None, None)
        contact = admin.contacts.get(record["contact_id"])
        contact_out = (
            self.contact_json(admin, contact, events=False)
            if contact is not None
            else self._deleted_contact(admin, record["contact_id"])
        )
        view = hashlib.sha256(f"view:{admin.id}:{record['id']}".encode()).hexdigest()
        details = []
        for detail, net in zip(record["details"], totals["lines"], strict=True):
            details.append(
                {
                    "id": detail["id"],
                    "administration_id": admin.admin_int,
                    "tax_rate_id": detail["tax_rate_id"],
                    "ledger_account_id": detail["ledger_account_id"],
                    "project_id": None,
                    "product_id": detail["product_id"],
                    "amount": f"{detail['amount']} x",
                    "amount_decimal": money(Decimal(detail["amount"])),
                    "description": detail["description"],
                    "price": money(detail["price"]),
                    "period": None,
                    "row_order": detail["row_order"],
                    "total_price_excl_tax_with_discount": money(net),
                    "total_price_excl_tax_with_discount_base": money(net),
                    "tax_report_reference": ["NL/1a"],
                    "mandatory_tax_text": None,
                    "created_at": detail["created_at"],
                    "updated_at": detail["updated_at"],
                }
            )
        sent = state != "draft"
        return {
            "id": record["id"],
            "administration_id": admin.admin_int,
            "contact_id": record["contact_id"],
            "contact": contact_out,
            "contact_person_id": None,
            "contact_person": None,
            "invoice_id": record["invoice_id"],
            "recurring_sales_invoice_id": None,
            "subscription_id": None,
            "workflow_id": admin.workflow_id,
            "document_style_id": admin.document_style_id,
            "identity_id": admin.identity_id,
            "draft_id": None,
            "state": state,
            "invoice_date": record["invoice_date"],
            "due_date": due.isoformat(),
            "payment_conditions": record["payment_conditions"],
            "payment_reference": reference,
            "short_payment_reference": short,
            "reference": record["reference"],
            "language": "nl",
            "currency": record["currency"],
            "discount": money(record["discount"]),
            "original_sales_invoice_id": None,
            "paused": False,
            "paid_at": record["paid_at"],
            "sent_at": record["sent_at"],
            "created_at": record["created_at"],
            "updated_at": record["updated_at"],
            "public_view_code": str(int(view[:8], 16) % 1000000).zfill(6) if sent else None,
            "public_view_code_expires_at": None,
            "version": record["version"],
            "details": details,
            "payments": list(record["payments"]),
            "total_paid": money(totals["paid"]),
            "total_unpaid": money(totals["unpaid"]),
            "total_unpaid_base": money(totals["unpaid"]),
            "prices_are_incl_tax": record["prices_are_incl_tax"],
            "total_price_excl_tax": money(totals["excl"]),
            "total_price_excl_tax_base": money(totals["excl"]),
            "total_price_incl_tax": money(totals["incl"]),
            "total_price_incl_tax_base": money(totals["incl"]),
            "total_discount": money(totals["discount"]),
            "marked_dubious_on": None,
            "marked_uncollectible_on": record.get("_uncollectible_on"),
            "reminder_count": 0,
            "next_reminder": due.isoformat() if sent else None,
            "original_estimate_id": None,
            "url": f"https://moneybird.sandbox/{admin.id}/external/{view}/sales_invoice",
            "payment_url": f"https://moneybird.sandbox/{admin.id}/external/{view}/sales_invoice",
            "custom_fields": [],
            "notes": [],
            "attachments": [],
            "events": [self._event(admin, action, at) for action, at in record["_events"]],
            "tax_totals": [
                {
                    "tax_rate_id": rid,
                    "taxable_amount": money(base),
                    "taxable_amount_base": money(base),
                    "tax_amount": money(tax),
                    "tax_amount_base": money(tax),
                }
                for rid, base, tax in totals["tax_totals"]
            ],
            "time_entries": [],
        }

    def _deleted_contact(self, admin: Administration, contact_id: str) -> dict:
        record = {
            "id": contact_id,
            "company_name": "(deleted contact)",
            "customer_id": "",
            "created_at": iso_timestamp(0),
            "updated_at": iso_timestamp(0),
            "version": 0,
        }
        return self.contact_json(admin, record, events=False)
