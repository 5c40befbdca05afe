"""The runners: the work a Celery task does, around the provider's calls.

- `push`: the push runner (one outbox item to the provider).
- `pull`, `pull_invoices`, `batch`: the pull runner (one sync run from the provider).
- `prefetch`: the pull's fetching of the next batches while it writes.

Every state they change goes through `integrations.services`; they talk to the provider
through `integrations.providers.base` only (no provider's names), so a second provider
needs no change here. Only the tasks call them.
"""
