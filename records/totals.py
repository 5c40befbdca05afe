"""Invoice arithmetic with `Decimal`, rounded half up to cents as the accounting system does.

Each line's amount is `quantity x unit_price` rounded to cents; tax is computed per tax
rate on the sum of that rate's line amounts (not per line) and rounded once:

    129.95 at 21 %: tax 27.2895 -> 27.29, total 157.24
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENTS = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return to_cents(Decimal(quantity) * Decimal(unit_price))


@dataclass(frozen=True)
class TaxLine:
    """A line as the totals see it."""

    amount: Decimal
    tax_rate_id: object
    tax_rate_name: str
    percentage: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    breakdown: list[dict]  # [{"tax_rate", "name", "percentage", "base", "tax"}], JSON-ready


def invoice_totals(lines: list[TaxLine]) -> Totals:
    """Subtotal, tax per rate (in order of first appearance), tax total and total."""
    per_rate: dict[object, list] = {}
    for line in lines:
        entry = per_rate.setdefault(line.tax_rate_id, [line, Decimal(0)])
        entry[1] += line.amount
    breakdown = []
    subtotal = tax_total = Decimal("0.00")
    for rate_id, (first, base) in per_rate.items():
        tax = to_cents(base * first.percentage / 100)
        subtotal += base
        tax_total += tax
        breakdown.append(
            {
                "tax_rate": str(rate_id),
                "name": first.tax_rate_name,
                "percentage": f"{to_cents(first.percentage):f}",
                "base": f"{to_cents(base):f}",
                "tax": f"{tax:f}",
            }
        )
    subtotal, tax_total = to_cents(subtotal), to_cents(tax_total)
    return Totals(subtotal, tax_total, subtotal + tax_total, breakdown)
