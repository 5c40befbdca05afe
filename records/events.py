"""Domain events of records: what other apps (integrations) may react to.

Records never imports its listeners; they connect to these signals. Each is sent by
its service INSIDE the service's transaction: a receiver runs in that transaction, so
what it writes (an outbox row, say) commits or rolls back with the change itself, and
a receiver that raises aborts the change. A receiver that talks to the outside world
must defer that work with `transaction.on_commit`.

Receivers:
- `invoice_finalized`: `integrations.services.outbox.on_invoice_finalized` writes the outbox
  items that push the invoice to each active accounting connection (connected in
  `integrations.apps.IntegrationsConfig.ready`).
- `payment_registered`: `integrations.services.outbox.on_payment_registered` queues a
  `register_payment` push behind the invoice's own pushes.
"""

from django.dispatch import Signal

invoice_finalized = Signal()
"""Sent by `invoice_finalize` with `invoice` (numbered, open), `by` and `via`."""

payment_registered = Signal()
"""Sent for every payment (`payment_register`, and `payments_register_from_sync` for the
sync's): `invoice`, `payment`, `by`, `via`."""

invoice_paid = Signal()
"""Sent by the same services when the due reaches zero: `invoice`, `payment`, `by`, `via`."""
