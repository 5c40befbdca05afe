"""The pull runner: the accounting system -> Ledgerbridge, one sync run at a time.

`sync_run_pull` (from the `integrations.sync_run` task) claims the run
(`services.sync_runs`), opens a client for its connection and makes one `Pull` pass.

Order: tax rates and products (by list), contacts, then sales invoices (both through the
provider's synchronization endpoints: every id with its version, then the changed ids
fetched in batches of 100, see `prefetch.py`). What changed is decided against the
ExternalLinks: an id without a link, or whose version is not the link's `remote_version`,
is fetched; an id that disappeared is deleted there (the link gets `remote_deleted_at`;
our record stays).

Each batch (with the batches fetched meanwhile) is one transaction: its records (through
records' bulk services), its links, and the run's progress and counts. A run that is
taken up again after its worker died (see `services/sync_runs.py`) lists the versions
again: batches that committed left their links at the current version, so only what is
left is fetched, and nothing is counted twice.

Ownership (DESIGN.md): contacts and products are edited on both sides; one changed on
both since the last sync (our `version` is not the link's `local_version`, and theirs is
not its `remote_version`) becomes a SyncConflict (`services/conflicts.py`) and neither
side is written. Invoices: see `pull_invoices.py`.
"""

import logging
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from integrations import clients
from integrations.models import Connection, RemoteKind, SyncRun
from integrations.providers.base import (
    NeedsAttentionError,
    RemoteContact,
    RemoteProduct,
    RemoteTaxRate,
    RemoteVersion,
)
from integrations.providers.budget import RequestBudget, connection_key
from integrations.services.conflicts import CONFLICT_MESSAGE, sync_conflicts_record
from integrations.services.issues import connection_report_issue, issue_kind_for
from integrations.services.links import linked_local_ids
from integrations.services.sync_runs import (
    RunTakenOver,
    locked_run,
    sync_run_claim,
    sync_run_finish,
    sync_run_progress,
)
from records import services as records
from records.models import Contact, Product, TaxRate
from records.services import SyncAction, SyncRow

from .batch import VIA, Counts, error_entry
from .prefetch import BATCH, prefetched
from .pull_invoices import InvoicePass

logger = logging.getLogger(__name__)


def _budget(connection: Connection) -> RequestBudget:
    return RequestBudget(
        connection_key(connection.base_url, connection.administration_id),
        limit=settings.INTEGRATIONS_REQUEST_BUDGET,
    )


def sync_run_pull(*, run_id) -> SyncRun | None:
    """Claim the run and pull. Returns the finished run, or None when there was nothing
    to do (already finished, or taken over by another worker).

    A needs-attention error marks the connection (an issue for a person) and fails the
    run; a retryable one is raised for the task to retry later (the run stays active).
    """
    run = sync_run_claim(run_id=run_id)
    if run is None:
        return None
    connection = run.connection
    try:
        with clients.client_for(connection, budget=_budget(connection)) as client:
            Pull(run=run, connection=connection, client=client).execute()
    except RunTakenOver:
        logger.warning("integrations: sync run %s was taken over; this worker stops", run.pk)
        return None
    except NeedsAttentionError as error:
        connection_report_issue(
            connection=connection, kind=issue_kind_for(error), message=str(error)
        )
        return sync_run_finish(run=run, error=str(error))
    return sync_run_finish(run=run)


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


def _contact_fields(contact: RemoteContact) -> dict:
    """A contact's fields as records keeps them (trimmed to its columns)."""
    return {
        "customer_number": contact.key.strip()[:32],
        "company_name": contact.company_name.strip()[:200],
        "first_name": contact.first_name.strip()[:100],
        "last_name": contact.last_name.strip()[:100],
        "email": contact.email.strip(),
        "phone": contact.phone.strip()[:50],
        "address_line1": contact.address_line1.strip()[:200],
        "address_line2": contact.address_line2.strip()[:200],
        "postal_code": contact.postal_code.strip()[:20],
        "city": contact.city.strip()[:100],
        "country": contact.country.strip()[:2].upper(),
        "tax_number": contact.tax_number.strip()[:50],
        "chamber_of_commerce": contact.chamber_of_commerce.strip()[:50],
    }


class Pull(InvoicePass):
    """One pass over a connection for one run (see the module docstring)."""

    def execute(self) -> None:
        plan = self._plan()
        with transaction.atomic():
            sync_run_progress(run=self.run, total=self.run.progress_done + plan.total)
        self._tax_rates(plan.tax_rates)
        for start in range(0, len(plan.products), BATCH):
            self._products(plan.products[start : start + BATCH])
        with closing(prefetched(self.client.fetch_contacts, plan.contacts)) as groups:
            for batch, remote in groups:
                self._contacts(batch, remote)
        self._gone(RemoteKind.CONTACT, plan.contacts_gone)
        with closing(prefetched(self.client.fetch_invoices, plan.invoices)) as groups:
            for batch, remote in groups:
                self._invoices(batch, remote)
        self._gone(RemoteKind.INVOICE, plan.invoices_gone)

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

    def _plan(self) -> Plan:
        tax_links = self._links(RemoteKind.TAX_RATE)
        tax_rates = [
            r
            for r in self.client.list_tax_rates()
            if getattr(tax_links.get(r.id), "remote_version", None) != r.version
        ]
        product_links = self._links(RemoteKind.PRODUCT)
        products = [
            p
            for p in self.client.list_products()
            if getattr(product_links.get(p.id), "remote_version", None) != p.version
        ]
        contacts, contacts_gone = self._changed(
            RemoteKind.CONTACT, self.client.list_contact_versions()
        )
        invoices, invoices_gone = self._changed(
            RemoteKind.INVOICE, self.client.list_invoice_versions(), linked_only=True
        )
        return Plan(tax_rates, products, contacts, contacts_gone, invoices, invoices_gone)

    # --- tax rates: linked by percentage, created when missing -----------------------------
    def _tax_rates(self, remote: list[RemoteTaxRate]) -> None:
        if not remote:
            return
        counts = Counts(done=len(remote))
        with transaction.atomic():
            locked = locked_run(self.run)
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
                values.append((local.pk, rate.id, rate.version, local.version))
            self._save_links(RemoteKind.TAX_RATE, values)
            self._commit(counts, locked)

    # --- products and contacts: bulk upserts with the conflict rule ---------------------------
    def _products(self, batch: list[RemoteProduct]) -> None:
        tax_links = self._links(RemoteKind.TAX_RATE)
        rates = TaxRate.objects.in_bulk([link.local_id for link in tax_links.values()])
        items = []
        for product in batch:
            link = tax_links.get(product.tax_rate_id or "")
            rate = rates.get(link.local_id) if link else None
            fields = {
                "sku": product.sku[:64],
                "title": product.title,
                "description": product.description,
                "price": product.price,
                "tax_rate": rate,
            }
            items.append((product.id, product.version, fields))
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
            locked = locked_run(self.run)
            links = self._links(kind, [item[0] for item in items])
            by_id = model.objects.in_bulk([link.local_id for link in links.values()])
            keys = [f[key_field] for rid, _, f in items if rid not in links and f.get(key_field)]
            by_key = {
                getattr(o, key_field): o for o in model.objects.filter(**{f"{key_field}__in": keys})
            }
            linked_here = linked_local_ids(
                connection=self.connection, kind=kind, local_ids=[o.pk for o in by_key.values()]
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
                else:
                    local = by_key.get(fields.get(key_field))
                    if local is not None and local.pk in linked_here:
                        counts.fail(
                            kind,
                            remote_id,
                            f"{key_field} {fields[key_field]} is linked to another record there.",
                        )
                        continue
                expected = local.version if local is not None else None
                rows.append(SyncRow(fields=fields, record=local, expected_version=expected))
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
            recorded = sync_conflicts_record(
                connection=self.connection, kind=kind, conflicts=conflicts
            )
            counts.errors += [error_entry("conflict", rid, CONFLICT_MESSAGE) for rid in recorded]
            self._mark_gone(kind, sorted(vanished), counts)
            self._commit(counts, locked)

    def _gone(self, kind: RemoteKind, remote_ids: list[str]) -> None:
        for start in range(0, len(remote_ids), 1000):
            chunk = remote_ids[start : start + 1000]
            counts = Counts(done=len(chunk))
            with transaction.atomic():
                locked = locked_run(self.run)
                self._mark_gone(kind, chunk, counts)
                self._commit(counts, locked)
