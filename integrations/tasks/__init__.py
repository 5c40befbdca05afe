"""Celery tasks of integrations (thin: each calls one runner or service).

`push`: the outbox (invoices out). `pull`: sync runs (the accounting system in).
Celery's autodiscovery imports this package; the submodules register their tasks under
the names in `integrations.queue`, through which everything else enqueues them.
"""

from . import pull, push  # noqa: F401
