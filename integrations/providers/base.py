"""The provider interface in Ledgerbridge's terms, and the errors every provider raises.

The runners (`integrations/sync/`) talk only to `AccountingProvider`, read only the data
classes below (Ledgerbridge's field names and enums) and branch only on the three error
families, so a second provider (Exact Online, Xero) is one new package beside `moneybird/` and an
entry in the registry (`integrations/clients.py`):

- `RetryableError`: try again later (network, timeout, 5xx, 429). `retry_at` is the
  Unix time before which nothing should be sent (from `Retry-After`), or None: use
  exponential backoff with jitter (`backoff_seconds`).
- `NeedsAttentionError`: a person must act (bad or expired token, missing scope, 403,
  plan limit, misconfigured URL). Retrying cannot help; mark the connection.
- `RecordError`: this one record is refused (400, 404, 422); fail it with the
  provider's message and carry on with the others.

Messages and reprs never contain credentials: errors carry the method and the path
(without query), the status and the provider's own message only.
"""

import hashlib
import json
import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


# --- errors ---------------------------------------------------------------------------
class ProviderError(Exception):
    """Base of every provider failure."""

    def __init__(
        self, message: str, *, status: int | None = None, method: str = "", path: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f" [{self.status}]" if self.status else ""
        return f"{self.message}{status}" + (f" ({where})" if where else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self!s})"


class RetryableError(ProviderError):
    def __init__(self, message: str, *, retry_at: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_at = retry_at


class NetworkError(RetryableError):
    """Connecting failed, or the connection broke before an answer (outcome unknown)."""


class ProviderTimeout(RetryableError):
    """No answer in time (outcome of a write unknown)."""


class ServerError(RetryableError):
    """5xx from the provider (outcome of a write unknown)."""


class RateLimited(RetryableError):
    """429 from the provider; `retry_at` from its `Retry-After`."""


class BudgetExhausted(RateLimited):
    """Our own shared request budget is spent (or a 429 paused everyone): nothing was sent."""


class UnexpectedResponse(RetryableError):
    """A success status with a body that is not what the API promises."""


class NeedsAttentionError(ProviderError):
    pass


class AuthenticationFailed(NeedsAttentionError):
    """401: the token is invalid, expired or revoked."""


class MissingScope(NeedsAttentionError):
    """401: the token lacks a permission this call needs."""


class AccessDenied(NeedsAttentionError):
    """403: the provider (or a gateway before it) refuses this token."""


class PaymentRequired(NeedsAttentionError):
    """402: the provider's plan limit is reached."""


class UnsafeURL(NeedsAttentionError):
    """The configured URL is refused by the outbound URL policy (nothing was sent)."""


class RedirectRefused(NeedsAttentionError):
    """The provider answered with a redirect; redirects are never followed."""


class RecordError(ProviderError):
    """This one record was refused; `field_errors` holds the provider's messages."""

    def __init__(
        self, message: str, *, field_errors: dict[str, list[str]] | None = None, **kwargs
    ) -> None:
        super().__init__(message, **kwargs)
        self.field_errors = field_errors or {}


class BadRequest(RecordError):
    """400."""


class NotFound(RecordError):
    """404."""


class ValidationFailed(RecordError):
    """422, with the provider's field messages (`{"customer_id": ["is already in use"]}`)."""


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 600.0) -> float:
    """Exponential backoff with full jitter for retry number `attempt` (0-based)."""
    return random.uniform(0, min(cap, base * 2**attempt))


# --- data in Ledgerbridge's terms --------------------------------------------------------
# Providers return these complete, in Ledgerbridge's names and enums; their own field
# names, state strings and texts stay in their package (e.g. `moneybird/mapping.py`).


def content_version(*values) -> int:
    """A version for records a provider lists without one (products, tax rates): 63
    bits of a hash of their content."""
    text = json.dumps([str(v) for v in values])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


class InvoiceState(StrEnum):
    """An invoice's state in the accounting system, as Ledgerbridge reads it."""

    DRAFT = "draft"  # not sent yet: its content is ours
    OPEN = "open"  # sent and not settled (due, late, reminded, payment pending)
    PAID = "paid"
    UNCOLLECTIBLE = "uncollectible"  # written off there: cancelled here


@dataclass(frozen=True)
class RemoteVersion:
    id: str
    version: int


@dataclass(frozen=True, kw_only=True)
class ContactData:
    """A customer as Ledgerbridge sends it; `key` is our own id (the customer number)."""

    key: str
    company_name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "NL"
    tax_number: str = ""
    chamber_of_commerce: str = ""


@dataclass(frozen=True, kw_only=True)
class RemoteContact(ContactData):
    """A customer as the provider has it: every field of `ContactData`, its id and version."""

    id: str
    version: int


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate_id: str | None = None
    ledger_account_id: str | None = None


@dataclass(frozen=True)
class InvoiceData:
    """An invoice as Ledgerbridge sends it; `reference` is our own key."""

    contact_id: str  # the provider's contact id
    reference: str
    invoice_date: date
    lines: tuple[InvoiceLine, ...]
    due_days: int = 14
    prices_include_tax: bool = False


@dataclass(frozen=True)
class RemotePayment:
    """A payment there; `reference` is the text a payment registered here from it carries."""

    id: str
    invoice_id: str
    amount: Decimal
    payment_date: date
    reference: str


@dataclass(frozen=True)
class RemoteInvoice:
    id: str
    version: int
    reference: str
    state: InvoiceState
    number: str | None
    contact_id: str
    total_excl_tax: Decimal
    total_incl_tax: Decimal
    total_unpaid: Decimal
    payments: tuple[RemotePayment, ...]


@dataclass(frozen=True)
class RemoteTaxRate:
    id: str
    name: str
    percentage: Decimal
    version: int  # `content_version` of its name and percentage


@dataclass(frozen=True)
class RemoteProduct:
    """A product; `sku` is never empty (the provider makes one when it has none),
    `tax_rate_id` is the provider's, `version` a `content_version`."""

    id: str
    version: int
    sku: str
    title: str
    description: str
    price: Decimal
    tax_rate_id: str | None


class AccountingProvider(ABC):
    """What Ledgerbridge needs from an accounting system. Every method may raise the
    errors above; none of them sleeps longer than the client's short, bounded waits."""

    @abstractmethod
    def check(self) -> str:
        """Verify the credentials; returns the administration's name."""

    @abstractmethod
    def list_tax_rates(self) -> list[RemoteTaxRate]: ...

    @abstractmethod
    def list_products(self) -> list[RemoteProduct]: ...

    # contacts
    @abstractmethod
    def list_contact_versions(self) -> list[RemoteVersion]:
        """Ids and versions of all contacts (a deleted contact is an id that disappears)."""

    @abstractmethod
    def fetch_contacts(self, ids: Iterable[str]) -> list[RemoteContact]: ...

    @abstractmethod
    def find_contact(self, key: str) -> RemoteContact | None:
        """The contact with our key, or None."""

    @abstractmethod
    def upsert_contact(self, data: ContactData, *, remote_id: str | None = None) -> RemoteContact:
        """Update the contact (by `remote_id`, else by our key) or create it."""

    @abstractmethod
    def iter_contacts(self) -> Iterator[RemoteContact]: ...

    # invoices and payments
    @abstractmethod
    def list_invoice_versions(self) -> list[RemoteVersion]: ...

    @abstractmethod
    def fetch_invoices(self, ids: Iterable[str]) -> list[RemoteInvoice]: ...

    @abstractmethod
    def find_invoice(self, reference: str) -> RemoteInvoice | None: ...

    @abstractmethod
    def create_invoice(self, data: InvoiceData) -> RemoteInvoice:
        """Create as a draft (not sent)."""

    @abstractmethod
    def send_invoice(self, remote_id: str) -> RemoteInvoice: ...

    @abstractmethod
    def list_payments(self, invoice_remote_id: str) -> list[RemotePayment]: ...

    @abstractmethod
    def register_payment(
        self, invoice_remote_id: str, *, amount: Decimal, payment_date: date
    ) -> RemotePayment: ...
