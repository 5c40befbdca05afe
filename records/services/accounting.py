"""Where invoices stand in the accounting system, written by the sync (integrations).

Not a change of the invoice by a person: the invoice's `version` and `updated_at` stay
and no history is recorded, so an If-Match a person holds stays valid and the history
shows only changes of the invoice itself. One invoice or a batch, the same bulk update.
"""

import datetime as dt

from project.db import bulk
from records.models import AccountingStatus, Invoice

from .fields import UNSET, given

ACCOUNTING_FIELDS = ("status", "remote_id", "remote_number", "last_error", "synced_at")


def invoice_set_accounting_state(
    *,
    invoice_id,
    status: str = UNSET,
    remote_id: str | None = UNSET,
    remote_number: str | None = UNSET,
    last_error: str | None = UNSET,
    synced_at: dt.datetime | None = UNSET,
) -> int:
    """Record where the invoice stands in the accounting system (what is not given
    stays; None empties a text). Returns 1, or 0 when the invoice is gone."""
    state = given(
        status=status,
        remote_id=remote_id,
        remote_number=remote_number,
        last_error=last_error,
        synced_at=synced_at,
    )
    return invoices_set_accounting_state(states={invoice_id: state}) if state else 0


def invoices_set_accounting_state(*, states: dict) -> int:
    """`invoice_set_accounting_state` for many invoices in one query (the pull's
    batches): `states` maps invoice ids to the same keyword values, all with the same
    keys. Returns how many invoices were written."""
    if not states:
        return 0
    names = set().union(*(set(state) for state in states.values()))
    unknown = names - set(ACCOUNTING_FIELDS)
    if unknown:
        raise TypeError(f"unknown accounting fields: {sorted(unknown)}")
    invoices = []
    for pk, state in states.items():
        if "status" in state and state["status"] not in AccountingStatus.values:
            raise ValueError(f"unknown accounting status {state['status']!r}")
        invoice = Invoice(pk=pk)
        for name in names:
            value = state.get(name)
            if value is None and name != "synced_at":
                value = ""
            setattr(invoice, f"accounting_{name}", value)
        invoices.append(invoice)
    return bulk.update(Invoice, invoices, [f"accounting_{name}" for name in sorted(names)])
