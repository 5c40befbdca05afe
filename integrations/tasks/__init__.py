"""Celery tasks of integrations (thin: each calls one function of `integrations.sync`).

`push`: the outbox (invoices out). `pull`: sync runs (the accounting system in).
Celery's autodiscovery imports this package; the submodules register their tasks.
"""

from . import pull, push  # noqa: F401
