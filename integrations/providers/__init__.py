"""Accounting providers behind one interface (`base.py`: data classes in Ledgerbridge's
names and enums, the error families), with the shared request budget (`budget.py`) and
outbound URL policy (`http.py`); one package per provider, Moneybird first (`moneybird/`).
The registry of providers is `integrations/clients.py`."""
