"""Pull: the accounting system -> Ledgerbridge, one sync run at a time.

Order: tax rates and products (by list), contacts, then sales invoices (both through the
provider's synchronization endpoints: every id with its version, then the changed ids
fetched in batches of 100). What changed is decided against the ExternalLinks: an id
without a link, or whose version is not the link's `remote_version`, is fetched; an id
that disappeared is deleted there (the link gets `remote_deleted_at`; our record stays).

Each batch (with the batches fetched meanwhile, see `Pull._fetched`) is one
transaction: its records (through records' bulk services), its links, and the run's
progress and counts. A run that is taken up again after its worker died
(see `runs.py`) lists the versions again: batches that committed left their links at
the current version, so only what is left is fetched, and nothing is counted twice.

Ownership (DESIGN.md): contacts and products are edited on both sides; one changed on
both since the last sync (our `version` is not the link's `local_version`, and theirs is
not its `remote_version`) becomes a SyncConflict and neither side is written. Invoices:
only those we pushed (linked) are pulled, and only what the accounting system owns once
an invoice is sent: its number (recorded as `accounting_remote_number`; our own gapless
number stays, and the push finds invoices there by it), its state (uncollectible ->
cancelled) and payments, which are registered through `records.services.payment_register`,
so a paid invoice becomes `paid` exactly as with a payment made here.
"""

import hashlib
import json
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integrations import clients, services
from integrations.models import (
    Connection,
    ExternalLink,
    RemoteKind,
    SyncConflict,
    SyncRun,
)
from integrations.providers.base import (
    AccountingProvider,
    NeedsAttentionError,
    RemoteContact,
    RemoteInvoice,
    RemoteProduct,
    RemoteTaxRate,
    RemoteVersion,
)
from integrations.providers.budget import RequestBudget, connection_key
from records import services as records
from records.models import (
    AccountingStatus,
    Contact,
    Interface,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Product,
    TaxRate,
)
from records.services import SyncAction, SyncRow

from . import runs
from .links import LinkState, link_states, links_save

logger = logging.getLogger(__name__)

BATCH = 100  # the provider's synchronization fetch takes 100 ids at a time
WRITE_GROUP = 5  # fetched batches at most in one write transaction (see `_fetched`)
VIA = Interface.SYNC
OPEN_STATES = {"open", "late", "reminded", "pending_payment", "scheduled"}
CONTACT_SNAPSHOT = (
    "customer_number",
    "company_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "tax_number",
    "chamber_of_commerce",
)


def _budget(connection: Connection) -> RequestBudget:
    return RequestBudget(
        connection_key(connection.base_url, connection.administration_id),
        limit=settings.INTEGRATIONS_REQUEST_BUDGET,
    )


def sync_run_execute(*, run_id) -> SyncRun | None:
    """Claim the run and pull. Returns the finished run, or None when there was nothing
    to do (already finished, or taken over by another worker).

    A needs-attention error marks the connection (an issue for a person) and fails the
    run; a retryable one is raised for the task to retry later (the run stays active).
    """
    run = runs.sync_run_claim(run_id=run_id)
    if run is None:
        return None
    connection = run.connection
    try:
        with clients.client_for(connection, budget=_budget(connection)) as client:
            Pull(run=run, connection=connection, client=client).execute()
    except runs.RunTakenOver:
        logger.warning("integrations: sync run %s was taken over; this worker stops", run.pk)
        return None
    except NeedsAttentionError as error:
        services.connection_report_issue(
            connection=connection, kind=services.issue_kind_for(error), message=str(error)
        )
        return runs.sync_run_finish(run=run, error=str(error))
    return runs.sync_run_finish(run=run)


def _digest(*values) -> int:
    """A version for lists without versions (products, tax rates): 63 bits of a hash."""
    text = json.dumps([str(v) for v in values])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def _error(kind: str, remote_id: str, message) -> dict:
    if isinstance(message, dict):
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in message.items())
    return {"kind": kind, "remote_id": remote_id, "error": str(message)}


@dataclass
class Counts:
    done: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)

    def fail(self, kind, remote_id, message) -> None:
        self.failed += 1
        self.errors.append(_error(kind, remote_id, message))


@dataclass
class Plan:
    tax_rates: list[RemoteTaxRate]
    products: list[RemoteProduct]
    contacts: list[RemoteVersion]  # to fetch
    contacts_gone: list[str]  # remote ids
    invoices: list[RemoteVersion]
    invoices_gone: list[str]

    @property
    def total(self) -> int:
        return (
            len(self.tax_rates)
            + len(self.products)
            + len(self.contacts)
            + len(self.contacts_gone)
            + len(self.invoices)
            + len(self.invoices_gone)
        )


class Pull:
    """One pass over a connection for one run (see the module docstring)."""

    def __init__(self, *, run: SyncRun, connection: Connection, client: AccountingProvider):
        self.run = run
        self.connection = connection
        self.client = client

    # --- links -----------------------------------------------------------------------
    def _links(self, kind: RemoteKind, remote_ids=None) -> dict[str, LinkState]:
        return link_states(connection=self.connection, kind=kind, remote_ids=remote_ids)

    def _save_links(self, kind: RemoteKind, values: list[tuple]) -> None:
        """Create or update links from `(local_id, remote_id, remote_version,
        local_version)` in one INSERT ... ON CONFLICT (remote id) DO UPDATE."""
        links_save(connection=self.connection, kind=kind, values=values)

    def _changed(self, kind: RemoteKind, versions: list[RemoteVersion], *, linked_only=False):
        """(to fetch, ids gone) against the links of `kind`."""
        links = self._links(kind)
        listed = {v.id for v in versions}
        fetch = []
        for version in versions:
            link = links.get(version.id)
            if link is None and linked_only:
                continue
            if link is None or link.remote_version != version.version:
                fetch.append(version)
        gone = [
            rid
            for rid, link in links.items()
            if rid not in listed and link.remote_deleted_at is None
        ]
        return fetch, sorted(gone)

    # --- the pass ----------------------------------------------------------------------
    def execute(self) -> None:
        plan = self._plan()
        with transaction.atomic():
            runs.sync_run_progress(run=self.run, total=self.run.progress_done + plan.total)
        self._tax_rates(plan.tax_rates)
        for start in range(0, len(plan.products), BATCH):
            self._products(plan.products[start : start + BATCH])
        with closing(self._fetched(self.client.fetch_contacts, plan.contacts)) as groups:
            for batch, remote in groups:
                self._contacts(batch, remote)
        self._gone(RemoteKind.CONTACT, plan.contacts_gone)
        with closing(self._fetched(self.client.fetch_invoices, plan.invoices)) as groups:
            for batch, remote in groups:
                self._invoices(batch, remote)
        self._gone(RemoteKind.INVOICE, plan.invoices_gone)

    @staticmethod
    def _fetched(fetch, versions: list[RemoteVersion]):
        """The fetched batches of `versions` as `(versions, what fetch returned)`, each
        the next batch together with those already fetched meanwhile (at most
        WRITE_GROUP batches): one thread fetches batch after batch, up to WRITE_GROUP
        ahead, while the caller writes (the provider's time overlaps ours). Only that
        thread talks to the provider meanwhile, and the caller's thread does every write,
        one transaction per group: when the provider is slower than the writes, that is
        one batch each as before; when it is faster, a transaction takes several batches
        and the per-batch queries are shared. A fetch error is raised when its batch is
        reached (the batches before it are written); closing the generator cancels the
        fetches not started and waits for one under way, so the client is not closed
        under it."""
        batches = [versions[start : start + BATCH] for start in range(0, len(versions), BATCH)]
        if not batches:
            return

        def ids(batch):
            return fetch([v.id for v in batch])

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pull-fetch")
        pending = deque()
        queued = iter(batches)
        try:
            while True:
                for batch in islice(queued, WRITE_GROUP - len(pending)):
                    pending.append((batch, pool.submit(ids, batch)))
                if not pending:
                    return
                batch, future = pending.popleft()
                versions, remote = list(batch), list(future.result())
                while pending and len(versions) < WRITE_GROUP * BATCH:
                    batch, future = pending[0]
                    if not future.done() or future.exception() is not None:
                        break  # not fetched yet, or its error is raised at its turn
                    pending.popleft()
                    versions += batch
                    remote += future.result()
                yield versions, remote
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _plan(self) -> Plan:
        tax_links = self._links(RemoteKind.TAX_RATE)
        tax_rates = [
            r
            for r in self.client.list_tax_rates()
            if getattr(tax_links.get(r.id), "remote_version", None) != _digest(r.name, r.percentage)
        ]
        product_links = self._links(RemoteKind.PRODUCT)
        products = [
            p
            for p in self.client.list_products()
            if getattr(product_links.get(p.id), "remote_version", None) != self._product_digest(p)
        ]
        contacts, contacts_gone = self._changed(
            RemoteKind.CONTACT, self.client.list_contact_versions()
        )
        invoices, invoices_gone = self._changed(
            RemoteKind.INVOICE, self.client.list_invoice_versions(), linked_only=True
        )
        return Plan(tax_rates, products, contacts, contacts_gone, invoices, invoices_gone)

    def _commit(self, counts: Counts, locked: SyncRun) -> None:
        runs.sync_run_progress(
            run=self.run,
            locked=locked,
            done=counts.done,
            created=counts.created,
            updated=counts.updated,
            deleted=counts.deleted,
            failed=counts.failed,
            errors=counts.errors,
        )

    # --- tax rates: linked by percentage, created when missing -----------------------------
    def _tax_rates(self, remote: list[RemoteTaxRate]) -> None:
        if not remote:
            return
        counts = Counts(done=len(remote))
        with transaction.atomic():
            locked = runs.locked_run(self.run)
            ours = {}
            for rate in TaxRate.objects.order_by("-created_at"):
                ours[rate.percentage] = rate  # the oldest rate of a percentage wins
            taken = {link.local_id: rid for rid, link in self._links(RemoteKind.TAX_RATE).items()}
            values = []
            for rate in remote:
                local = ours.get(rate.percentage.quantize(Decimal("0.01")))
                if local is not None and taken.get(local.pk, rate.id) != rate.id:
                    continue  # a second rate there with this percentage (purchases): ours is linked

                if local is None:
                    try:
                        local = records.taxrate_create(
                            name=rate.name[:100], percentage=rate.percentage, by=None, via=VIA
                        )
                    except ValidationError as exc:
                        counts.fail(RemoteKind.TAX_RATE, rate.id, exc.message_dict)
                        continue
                    ours[local.percentage] = local
                    counts.created += 1
                taken[local.pk] = rate.id
                values.append(
                    (local.pk, rate.id, _digest(rate.name, rate.percentage), local.version)
                )
            self._save_links(RemoteKind.TAX_RATE, values)
            self._commit(counts, locked)

    # --- products and contacts: bulk upserts with the conflict rule ---------------------------
    def _product_digest(self, product: RemoteProduct) -> int:
        return _digest(
            product.identifier,
            product.title,
            product.description,
            product.price,
            product.tax_rate_id,
        )

    def _products(self, batch: list[RemoteProduct]) -> None:
        tax_links = self._links(RemoteKind.TAX_RATE)
        rates = TaxRate.objects.in_bulk([link.local_id for link in tax_links.values()])
        items = []
        for product in batch:
            link = tax_links.get(product.tax_rate_id or "")
            rate = rates.get(link.local_id) if link else None
            fields = {
                "sku": (product.identifier or f"MB-{product.id}")[:64],
                "title": product.title[:200] or product.identifier or f"Product {product.id}",
                "description": product.description,
                "price": product.price,
                "tax_rate": rate,
            }
            items.append((product.id, self._product_digest(product), fields))
        self._upsert(
            RemoteKind.PRODUCT,
            Product,
            "sku",
            items,
            records.products_upsert_from_sync,
            require={"tax_rate": "The product's tax rate is unknown here."},
        )

    def _contacts(self, batch: list[RemoteVersion], remote: list[RemoteContact]) -> None:
        items = [(c.id, c.version, _contact_fields(c)) for c in remote]
        missing = {v.id for v in batch} - {c.id for c in remote}
        self._upsert(
            RemoteKind.CONTACT,
            Contact,
            "customer_number",
            items,
            records.contacts_upsert_from_sync,
            vanished=missing,
        )

    def _upsert(self, kind, model, key_field, items, upsert, *, require=None, vanished=()):
        """Match each `(remote_id, remote_version, fields)` by link, else by our key,
        else create; apply the conflict rule; write the batch in one transaction."""
        counts = Counts(done=len(items) + len(vanished))
        with transaction.atomic():
            locked = runs.locked_run(self.run)
            links = self._links(kind, [item[0] for item in items])
            by_id = model.objects.in_bulk([link.local_id for link in links.values()])
            keys = [f[key_field] for rid, _, f in items if rid not in links and f.get(key_field)]
            by_key = {
                getattr(o, key_field): o for o in model.objects.filter(**{f"{key_field}__in": keys})
            }
            linked_here = set(
                ExternalLink.objects.filter(
                    connection=self.connection,
                    kind=kind,
                    local_id__in=[o.pk for o in by_key.values()],
                ).values_list("local_id", flat=True)
            )
            rows, meta, conflicts = [], [], []
            for remote_id, version, fields in items:
                missing = [name for name in (require or {}) if fields.get(name) is None]
                if missing:
                    counts.fail(kind, remote_id, (require or {})[missing[0]])
                    continue
                link = links.get(remote_id)
                local = by_id.get(link.local_id) if link else None
                if link is not None and local is None:
                    counts.fail(kind, remote_id, "Linked to a record deleted here.")
                    continue
                if local is not None:
                    if link.local_version is not None and local.version != link.local_version:
                        conflicts.append((local, remote_id, fields))
                        continue
                    rows.append(
                        SyncRow(fields=fields, record=local, expected_version=local.version)
                    )
                else:
                    local = by_key.get(fields.get(key_field))
                    if local is not None and local.pk in linked_here:
                        counts.fail(
                            kind,
                            remote_id,
                            f"{key_field} {fields[key_field]} is linked to another record there.",
                        )
                        continue
                    rows.append(
                        SyncRow(
                            fields=fields,
                            record=local,
                            expected_version=local.version if local else None,
                        )
                    )
                meta.append((remote_id, version, fields))
            outcomes = upsert(rows=rows, via=VIA) if rows else []
            values = []
            for (remote_id, version, fields), outcome in zip(meta, outcomes, strict=True):
                if outcome.action == SyncAction.STALE:  # changed here while we looked
                    conflicts.append((outcome.record, remote_id, fields))
                    continue
                if outcome.action == SyncAction.FAILED:
                    counts.fail(kind, remote_id, outcome.errors)
                    continue
                if outcome.action == SyncAction.CREATED:
                    counts.created += 1
                elif outcome.action == SyncAction.UPDATED:
                    counts.updated += 1
                values.append((outcome.record.pk, remote_id, version, outcome.record.version))
            self._save_links(kind, values)
            self._conflicts(kind, conflicts, counts)
            self._mark_gone(kind, sorted(vanished), counts)
            self._commit(counts, locked)

    def _conflicts(self, kind, conflicts, counts: Counts) -> None:
        """Record each changed-on-both-sides record for a person (once while open)."""
        if not conflicts:
            return
        open_ = set(
            SyncConflict.objects.filter(
                connection=self.connection,
                kind=kind,
                resolved_at__isnull=True,
                local_id__in=[local.pk for local, _, _ in conflicts],
            ).values_list("local_id", flat=True)
        )
        new = []
        for local, remote_id, fields in conflicts:
            if local.pk in open_:
                continue
            names = [name for name in fields if name != "tax_rate"]
            new.append(
                SyncConflict(
                    connection=self.connection,
                    kind=kind,
                    local_id=local.pk,
                    remote_id=remote_id,
                    local_values={n: _plain(getattr(local, n)) for n in names},
                    remote_values={n: _plain(fields[n]) for n in names},
                )
            )
            counts.errors.append(
                _error(
                    "conflict",
                    remote_id,
                    "Changed on both sides since the last sync; left for a person.",
                )
            )
        SyncConflict.objects.bulk_create(new, ignore_conflicts=True)

    # --- deleted there -------------------------------------------------------------------
    def _mark_gone(self, kind: RemoteKind, remote_ids, counts: Counts) -> None:
        if remote_ids:
            counts.deleted += ExternalLink.objects.filter(
                connection=self.connection,
                kind=kind,
                remote_id__in=list(remote_ids),
                remote_deleted_at__isnull=True,
            ).update(remote_deleted_at=timezone.now())

    def _gone(self, kind: RemoteKind, remote_ids: list[str]) -> None:
        for start in range(0, len(remote_ids), 1000):
            chunk = remote_ids[start : start + 1000]
            counts = Counts(done=len(chunk))
            with transaction.atomic():
                locked = runs.locked_run(self.run)
                self._mark_gone(kind, chunk, counts)
                self._commit(counts, locked)

    # --- invoices: what the accounting system owns once sent -------------------------------
    def _invoices(self, batch: list[RemoteVersion], remote: list[RemoteInvoice]) -> None:
        missing = {v.id for v in batch} - {i.id for i in remote}
        counts = Counts(done=len(remote) + len(missing))
        with transaction.atomic():
            locked = runs.locked_run(self.run)
            links = self._links(RemoteKind.INVOICE, [i.id for i in remote])
            invoices = Invoice.objects.in_bulk([link.local_id for link in links.values()])
            payment_links = self._links(
                RemoteKind.PAYMENT, [p.id for i in remote for p in i.payments]
            )
            values, numbers, self._payment_links, settle = [], {}, [], []
            for item in remote:
                invoice = invoices.get(links[item.id].local_id)
                if invoice is None:
                    counts.fail(RemoteKind.INVOICE, item.id, "Linked to an invoice deleted here.")
                    continue
                if item.state == "draft" or invoice.status == InvoiceStatus.DRAFT:
                    values.append((invoice.pk, item.id, item.version, invoice.version))
                    continue  # not sent yet: the content is ours
                if item.number and item.number != invoice.accounting_remote_number:
                    numbers[invoice.pk] = {
                        "status": AccountingStatus.SENT,
                        "remote_id": item.id,
                        "remote_number": item.number,
                        "synced_at": timezone.now(),
                    }
                version = invoice.version
                if self._owned_changes(invoice, item, payment_links):
                    if not (item.state == "uncollectible" and invoice.status == InvoiceStatus.OPEN):
                        settle.append((item, invoice))  # payments only: in bulk, below
                        continue
                    try:
                        with transaction.atomic():
                            invoice, new_links = self._invoice(invoice, item, payment_links)
                        self._payment_links.extend(new_links)
                    except ValidationError as exc:
                        counts.fail(RemoteKind.INVOICE, item.id, exc.message_dict)
                        numbers.pop(invoice.pk, None)
                        continue
                    except records.Conflict as exc:
                        counts.fail(RemoteKind.INVOICE, item.id, str(exc))
                        numbers.pop(invoice.pk, None)
                        continue
                counts.updated += invoice.pk in numbers or invoice.version != version
                values.append((invoice.pk, item.id, item.version, invoice.version))
            self._settle(settle, payment_links, numbers, values, counts)
            records.invoices_set_accounting_state(states=numbers)
            self._save_links(RemoteKind.INVOICE, values)
            self._save_links(RemoteKind.PAYMENT, self._payment_links)
            self._mark_gone(RemoteKind.INVOICE, sorted(missing), counts)
            self._commit(counts, locked)

    def _settle(self, pending, payment_links, numbers, values, counts: Counts) -> None:
        """The payments made there on the batch's sent invoices, registered through
        `records.payments_register_from_sync` in one go (the rules of `payment_register`
        for each payment); an invoice paid there must be paid here after them. An
        invoice whose payments fail is left out whole (its links and number too)."""
        if not pending:
            return
        unlinked = self._unlinked_payments([invoice for _, invoice in pending])
        rows, plans = [], []
        for item, invoice in pending:
            new, links = self._match_twins(
                unlinked.get(invoice.pk, []),
                [p for p in item.payments if p.id not in payment_links],
            )
            rows.append(
                records.SyncPayments(
                    invoice=invoice,
                    payments=[
                        records.SyncPayment(
                            amount=p.amount,
                            date=p.payment_date,
                            method=PaymentMethod.OTHER,
                            reference=f"Moneybird payment {p.id}",
                        )
                        for p in new
                    ],
                    settle=item.state == "paid" and invoice.status != InvoiceStatus.PAID,
                )
            )
            plans.append((item, invoice.version, new, links))
        outcomes = records.payments_register_from_sync(rows=rows, by=None, via=VIA)
        for (item, version, new, links), row, outcome in zip(plans, rows, outcomes, strict=True):
            if outcome.action == SyncAction.FAILED:
                counts.fail(RemoteKind.INVOICE, item.id, outcome.errors)
                numbers.pop(row.invoice.pk, None)
                continue
            invoice = outcome.invoice
            links += [(p.pk, r.id, None, None) for p, r in zip(outcome.payments, new, strict=True)]
            self._payment_links.extend(links)
            counts.updated += invoice.pk in numbers or invoice.version != version
            values.append((invoice.pk, item.id, item.version, invoice.version))

    def _unlinked_payments(self, invoices) -> dict:
        """Our payments without a payment link, of the invoices that have payments, by
        invoice id (two queries for the batch)."""
        paid = [invoice.pk for invoice in invoices if invoice.total_paid]
        if not paid:
            return {}
        payments = list(Payment.objects.filter(invoice__in=paid))
        linked = set(
            ExternalLink.objects.filter(
                connection=self.connection,
                kind=RemoteKind.PAYMENT,
                local_id__in=[p.pk for p in payments],
            ).values_list("local_id", flat=True)
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

    @staticmethod
    def _owned_changes(invoice: Invoice, item: RemoteInvoice, payment_links) -> bool:
        """Whether payments or the state need a records service (else only links move)."""
        if any(p.id not in payment_links for p in item.payments):
            return True
        if item.state == "uncollectible" and invoice.status == InvoiceStatus.OPEN:
            return True
        return item.state == "paid" and invoice.status != InvoiceStatus.PAID

    def _invoice(self, invoice: Invoice, item: RemoteInvoice, payment_links):
        """Apply the payments and state of a sent invoice through records' services;
        returns the invoice and the payment links to write."""
        new_payments = [p for p in item.payments if p.id not in payment_links]
        new_links = []
        if new_payments:
            invoice, new_links = self._payments(invoice, new_payments)
        if item.state == "uncollectible" and invoice.status == InvoiceStatus.OPEN:
            invoice = records.invoice_cancel(invoice=invoice, by=None, via=VIA)
        if item.state == "paid" and invoice.status != InvoiceStatus.PAID:
            raise ValidationError(
                {"status": [f"Paid there, but {invoice.total_due:f} is still due here."]}
            )
        return invoice, new_links

    def _payments(self, invoice: Invoice, remote_payments):
        """Register each payment made there through records' payment service (twins
        linked instead, see `_match_twins`). Returns the invoice as the last payment left
        it and the payment links to write."""
        unlinked = self._unlinked_payments([invoice]).get(invoice.pk, [])
        new, values = self._match_twins(unlinked, remote_payments)
        for remote in new:
            payment: Payment = records.payment_register(
                invoice=invoice,
                amount=remote.amount,
                date=remote.payment_date,
                method=PaymentMethod.OTHER,
                reference=f"Moneybird payment {remote.id}",
                by=None,
                via=VIA,
            )
            invoice = payment.invoice  # locked and updated by the service
            values.append((payment.pk, remote.id, None, None))
        return invoice, values


def _contact_fields(contact: RemoteContact) -> dict:
    raw = contact.raw

    def text(name: str, limit: int) -> str:
        return str(raw.get(name) or "").strip()[:limit]

    return {
        "customer_number": contact.key.strip()[:32],
        "company_name": contact.company_name.strip()[:200],
        "first_name": contact.firstname.strip()[:100],
        "last_name": contact.lastname.strip()[:100],
        "email": (contact.email or str(raw.get("email") or "")).strip(),
        "phone": text("phone", 50),
        "address_line1": text("address1", 200),
        "address_line2": text("address2", 200),
        "postal_code": text("zipcode", 20),
        "city": text("city", 100),
        "country": text("country", 2).upper(),
        "tax_number": text("tax_number", 50),
        "chamber_of_commerce": text("chamber_of_commerce", 50),
    }


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


@transaction.atomic
def sync_conflict_resolve(*, conflict: SyncConflict, by=None) -> SyncConflict:
    """A person resolved a conflict: the record's link forgets the remote version and
    takes our current version as seen, so the next sync applies the accounting system's
    values (the record's own history keeps ours)."""
    conflict = SyncConflict.objects.select_for_update().get(pk=conflict.pk)
    if conflict.resolved_at is not None:
        return conflict
    model = {RemoteKind.CONTACT: Contact, RemoteKind.PRODUCT: Product}.get(conflict.kind)
    local = model.objects.filter(pk=conflict.local_id).first() if model else None
    ExternalLink.objects.filter(
        connection=conflict.connection_id, kind=conflict.kind, local_id=conflict.local_id
    ).update(remote_version=None, local_version=getattr(local, "version", None))
    SyncConflict.objects.filter(pk=conflict.pk).resolve(by=by)
    conflict.refresh_from_db()
    return conflict
