"""Totals against hand-computed vectors: line amounts, tax per rate, half-up rounding."""

from decimal import Decimal

import pytest

from records.tests.factories import InvoiceFactory, LineFactory, TaxRateFactory
from records.totals import TaxLine, invoice_totals, line_amount

D = Decimal


def rate_line(amount: str, pct: str) -> TaxLine:
    return TaxLine(D(amount), f"rate-{pct}", f"{pct}%", D(pct))


@pytest.mark.parametrize(
    ("quantity", "unit_price", "amount"),
    [
        ("1", "129.95", "129.95"),
        ("1.5", "0.99", "1.49"),  # 1.485: half up (banker's rounding would give 1.48)
        ("0.333", "10.00", "3.33"),
        ("3", "0.335", "1.01"),  # 1.005
        ("2.5", "0.01", "0.03"),  # 0.025
        ("0", "99.99", "0.00"),
        ("1000", "9999.99", "9999990.00"),
    ],
)
def test_line_amount_rounds_half_up_to_cents(quantity, unit_price, amount):
    assert line_amount(D(quantity), D(unit_price)) == D(amount)


@pytest.mark.parametrize(
    ("lines", "subtotal", "tax_total", "total", "taxes"),
    [
        # the example
        ([("129.95", "21")], "129.95", "27.29", "157.24", ["27.29"]),
        # mixed rates: 9 % of 46.50 = 4.185 -> 4.19
        (
            [("200.00", "21"), ("46.50", "9"), ("20.00", "0")],
            "266.50", "46.19", "312.69", ["42.00", "4.19", "0.00"],
        ),
        # tax on the sum per rate, not per line: 2 x 0.0045 would round to 0.00 each
        ([("0.05", "9"), ("0.05", "9")], "0.10", "0.01", "0.11", ["0.01"]),
        # half-up at the tax: 0.045 -> 0.05
        ([("0.50", "9")], "0.50", "0.05", "0.55", ["0.05"]),
        # rates in order of first appearance, lines of one rate summed
        (
            [("10.00", "9"), ("1.49", "21"), ("3.33", "21"), ("5.00", "9")],
            "19.82", "2.36", "22.18", ["1.35", "1.01"],
        ),
        ([], "0.00", "0.00", "0.00", []),
        ([("9999990.00", "21")], "9999990.00", "2099997.90", "12099987.90", ["2099997.90"]),
    ],
)  # fmt: skip
def test_invoice_totals(lines, subtotal, tax_total, total, taxes):
    result = invoice_totals([rate_line(amount, pct) for amount, pct in lines])

    assert (result.subtotal, result.tax_total, result.total) == (
        D(subtotal),
        D(tax_total),
        D(total),
    )
    assert [row["tax"] for row in result.breakdown] == taxes
    assert all(isinstance(v, Decimal) for v in (result.subtotal, result.tax_total, result.total))


@pytest.mark.django_db
def test_service_stores_totals_and_breakdown():
    high, low, zero = (
        TaxRateFactory(percentage=21),
        TaxRateFactory(percentage=9),
        TaxRateFactory(percentage=0),
    )

    invoice = InvoiceFactory(
        lines=[
            LineFactory(unit_price="100.00", quantity="2", rate=21),
            LineFactory(unit_price="15.50", quantity="3", rate=9),
            LineFactory(unit_price="20.00", rate=0),
            LineFactory(unit_price="0.99", quantity="1.5", rate=21),
        ]
    )

    invoice.refresh_from_db()
    assert [x.amount for x in invoice.lines.order_by("position")] == [
        D("200.00"), D("46.50"), D("20.00"), D("1.49"),
    ]  # fmt: skip
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        D("267.99"),
        D("46.50"),
        D("314.49"),
    )  # fmt: skip  (21 % of 201.49 = 42.3129 -> 42.31; + 4.19 + 0.00)
    assert invoice.tax_breakdown == [
        {"tax_rate": str(high.pk), "name": high.name, "percentage": "21.00",
         "base": "201.49", "tax": "42.31"},
        {"tax_rate": str(low.pk), "name": low.name, "percentage": "9.00",
         "base": "46.50", "tax": "4.19"},
        {"tax_rate": str(zero.pk), "name": zero.name, "percentage": "0.00",
         "base": "20.00", "tax": "0.00"},
    ]  # fmt: skip
    assert invoice.total_paid == 0
    assert invoice.total_due == D("314.49")
