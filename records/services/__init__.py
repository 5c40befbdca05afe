"""Every write of the records app. Interfaces (API, admin, sync) call these and nothing else.

One module per topic; this package re-exports the services, their errors and the types
they take, so callers write `from records import services; services.invoice_finalize(...)`:

- `tax_rates`: `taxrate_create`, `taxrate_update` (drafts recomputed), `taxrate_delete`;
- `contacts`: `contact_create`, `contact_update`, `contact_delete`;
- `products`: `product_create`, `product_update`, `product_delete`;
- `invoices`: `invoice_create`, `invoice_update`, `invoice_delete`, `invoice_finalize`,
  `invoice_cancel`; `lines`: building lines and the stored totals from input;
- `numbering`: the gapless counters (invoice numbers per year, customer numbers);
- `payments`: `payment_register`;
- `accounting`: `invoice_set_accounting_state`, `invoices_set_accounting_state` (where
  invoices stand in the accounting system; the sync's state, not a change);
- `sync`: `contacts_upsert_from_sync`, `products_upsert_from_sync`; `sync_payments`:
  `payments_register_from_sync` (payments, cancels, "paid there" for the pull);
- `history` and `fields`, what the others share: the errors, row locks and
  ChangeRecords; assigning, validating and saving field values.

Conventions:
- keyword-only and typed; `by` is the acting user (or None), `via` the interface
  (`Interface`); an update takes the fields to change as keywords, and a field not given
  stays (`UNSET`); every write records a `ChangeRecord` in the same transaction;
- bad input raises `django.core.exceptions.ValidationError` with a field dict (nested
  fields as `lines.0.quantity`), a state that forbids the write raises `Conflict`, and a
  stale `expected_version` (If-Match) raises `StaleVersion` (both `project.errors`);
  nothing is half-written;
- rows that can race are locked with `SELECT ... FOR UPDATE` before they are read;
- stored invoice totals are recomputed here on every change, never taken from input;
- batches are written through `project.db.bulk`, never with SQL of their own.
"""

from .accounting import (
    ACCOUNTING_FIELDS,
    invoice_set_accounting_state,
    invoices_set_accounting_state,
)
from .contacts import CONTACT_FIELDS, contact_create, contact_delete, contact_update
from .fields import UNSET
from .history import Conflict, StaleVersion
from .invoices import (
    INVOICE_FIELDS,
    invoice_cancel,
    invoice_create,
    invoice_delete,
    invoice_finalize,
    invoice_update,
)
from .lines import LINE_FIELDS, LineInput
from .payments import payment_register
from .products import PRODUCT_FIELDS, product_create, product_delete, product_update
from .sync import (
    SyncAction,
    SyncOutcome,
    SyncRow,
    contacts_upsert_from_sync,
    products_upsert_from_sync,
)
from .sync_payments import (
    SyncPayment,
    SyncPayments,
    SyncPaymentsOutcome,
    payments_register_from_sync,
)
from .tax_rates import taxrate_create, taxrate_delete, taxrate_update

__all__ = [
    "ACCOUNTING_FIELDS",
    "CONTACT_FIELDS",
    "INVOICE_FIELDS",
    "LINE_FIELDS",
    "PRODUCT_FIELDS",
    "UNSET",
    "Conflict",
    "LineInput",
    "StaleVersion",
    "SyncAction",
    "SyncOutcome",
    "SyncPayment",
    "SyncPayments",
    "SyncPaymentsOutcome",
    "SyncRow",
    "contact_create",
    "contact_delete",
    "contact_update",
    "contacts_upsert_from_sync",
    "invoice_cancel",
    "invoice_create",
    "invoice_delete",
    "invoice_finalize",
    "invoice_set_accounting_state",
    "invoice_update",
    "invoices_set_accounting_state",
    "payment_register",
    "payments_register_from_sync",
    "product_create",
    "product_delete",
    "product_update",
    "products_upsert_from_sync",
    "taxrate_create",
    "taxrate_delete",
    "taxrate_update",
]
