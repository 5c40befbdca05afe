"""The pull's invoice batches: what the accounting system owns once an invoice is sent.

Only invoices we pushed (linked) are pulled. A draft (there or here) is ours: only its
link moves. Of a sent invoice the accounting system owns its number (recorded as
`accounting_remote_number`; our own gapless number stays, and the push finds invoices
there by it), its state and its payments. Those go to records in one call per batch,
`records.services.payments_register_from_sync`, with the rules of a payment made here:
each payment made there is registered (one pushed from here whose link is not written
yet is linked instead, see `_match_twins`), an invoice paid there must be paid here
after them, and one written off there (uncollectible) is cancelled. An invoice whose
row fails is left out whole (its links and number too) and counted as failed.
"""

from django.db import transaction
from django.utils import timezone

from integrations.models import RemoteKind
from integrations.providers.base import InvoiceState, RemoteInvoice, RemoteVersion
from integrations.services.links import linked_local_ids
from integrations.services.sync_runs import locked_run
from records import services as records
from records.models import AccountingStatus, Invoice, InvoiceStatus, Payment, PaymentMethod
from records.services import SyncAction

from .batch import VIA, Counts, PullPass


class InvoicePass(PullPass):
    """The invoice batches of `pull.Pull`."""

    def _invoices(self, batch: list[RemoteVersion], remote: list[RemoteInvoice]) -> None:
        missing = {v.id for v in batch} - {i.id for i in remote}
        counts = Counts(done=len(remote) + len(missing))
        with transaction.atomic():
            locked = locked_run(self.run)
            links = self._links(RemoteKind.INVOICE, [i.id for i in remote])
            invoices = Invoice.objects.in_bulk([link.local_id for link in links.values()])
            payment_links = self._links(
                RemoteKind.PAYMENT, [p.id for i in remote for p in i.payments]
            )
            values, numbers, new_payment_links, owned = [], {}, [], []
            for item in remote:
                invoice = invoices.get(links[item.id].local_id)
                if invoice is None:
                    counts.fail(RemoteKind.INVOICE, item.id, "Linked to an invoice deleted here.")
                    continue
                if item.state == InvoiceState.DRAFT or invoice.status == InvoiceStatus.DRAFT:
                    values.append((invoice.pk, item.id, item.version, invoice.version))
                    continue  # not sent yet: the content is ours
                if item.number and item.number != invoice.accounting_remote_number:
                    numbers[invoice.pk] = {
                        "status": AccountingStatus.SENT,
                        "remote_id": item.id,
                        "remote_number": item.number,
                        "synced_at": timezone.now(),
                    }
                if self._owned_changes(invoice, item, payment_links):
                    owned.append((item, invoice))  # payments or state: in bulk, below
                    continue
                counts.updated += invoice.pk in numbers
                values.append((invoice.pk, item.id, item.version, invoice.version))
            self._apply_owned(owned, payment_links, numbers, values, new_payment_links, counts)
            records.invoices_set_accounting_state(states=numbers)
            self._save_links(RemoteKind.INVOICE, values)
            self._save_links(RemoteKind.PAYMENT, new_payment_links)
            self._mark_gone(RemoteKind.INVOICE, sorted(missing), counts)
            self._commit(counts, locked)

    @staticmethod
    def _owned_changes(invoice: Invoice, item: RemoteInvoice, payment_links) -> bool:
        """Whether payments or the state need records (else only links move)."""
        if any(p.id not in payment_links for p in item.payments):
            return True
        if item.state == InvoiceState.UNCOLLECTIBLE and invoice.status == InvoiceStatus.OPEN:
            return True
        return item.state == InvoiceState.PAID and invoice.status != InvoiceStatus.PAID

    @staticmethod
    def _payments_row(item: RemoteInvoice, invoice: Invoice, new) -> "records.SyncPayments":
        """The records row of a sent invoice: the payments made there to register, and
        its state there (paid, or written off)."""
        return records.SyncPayments(
            invoice=invoice,
            payments=[
                records.SyncPayment(
                    amount=p.amount,
                    date=p.payment_date,
                    method=PaymentMethod.OTHER,
                    reference=p.reference,
                )
                for p in new
            ],
            settle=item.state == InvoiceState.PAID,
            cancel=item.state == InvoiceState.UNCOLLECTIBLE,
        )

    def _apply_owned(self, pending, payment_links, numbers, values, new_links, counts) -> None:
        """Register the payments and states of the batch's sent invoices in one call."""
        if not pending:
            return
        unlinked = self._unlinked_payments([invoice for _, invoice in pending])
        rows, plans = [], []
        for item, invoice in pending:
            new, twin_links = self._match_twins(
                unlinked.get(invoice.pk, []),
                [p for p in item.payments if p.id not in payment_links],
            )
            rows.append(self._payments_row(item, invoice, new))
            plans.append((item, invoice.version, new, twin_links))
        outcomes = records.payments_register_from_sync(rows=rows, by=None, via=VIA)
        for (item, version, new, twin_links), row, outcome in zip(
            plans, rows, outcomes, strict=True
        ):
            if outcome.action == SyncAction.FAILED:
                counts.fail(RemoteKind.INVOICE, item.id, outcome.errors)
                numbers.pop(row.invoice.pk, None)
                continue
            invoice = outcome.invoice
            new_links += twin_links
            new_links += [
                (p.pk, r.id, None, None) for p, r in zip(outcome.payments, new, strict=True)
            ]
            counts.updated += invoice.pk in numbers or invoice.version != version
            values.append((invoice.pk, item.id, item.version, invoice.version))

    def _unlinked_payments(self, invoices) -> dict:
        """Our payments without a payment link, of the invoices that have payments, by
        invoice id (two queries for the batch)."""
        paid = [invoice.pk for invoice in invoices if invoice.total_paid]
        if not paid:
            return {}
        payments = list(Payment.objects.filter(invoice__in=paid))
        linked = linked_local_ids(
            connection=self.connection, kind=RemoteKind.PAYMENT, local_ids=[p.pk for p in payments]
        )
        result = {}
        for payment in payments:
            if payment.pk not in linked:
                result.setdefault(payment.invoice_id, []).append(payment)
        return result

    @staticmethod
    def _match_twins(unlinked, remote_payments):
        """(the payments to register, the links of the twins): a payment pushed from here
        whose link is not written yet (same amount and date, no link) is linked instead of
        registered twice. In the order of their date (then id)."""
        unlinked, new, links = list(unlinked), [], []
        for remote in sorted(remote_payments, key=lambda p: (p.payment_date, p.id)):
            twin = next(
                (
                    p
                    for p in unlinked
                    if p.amount == remote.amount and p.date == remote.payment_date
                ),
                None,
            )
            if twin is None:
                new.append(remote)
            else:
                unlinked.remove(twin)
                links.append((twin.pk, remote.id, None, None))
        return new, links
