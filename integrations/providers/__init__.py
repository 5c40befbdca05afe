"""Accounting providers behind one interface (base.py); Moneybird is the first (moneybird.py)."""
