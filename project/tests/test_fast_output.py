"""`FastOutputMixin` gives DRF's output exactly: field for field, in order, on every case."""

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework import serializers

from project.api.serializers import FastOutputMixin
from records.api import serializers as record_serializers
from records.models import ChangeRecord, Contact, Invoice, Product, TaxRate


@pytest.fixture
def plain_drf(monkeypatch):
    """`with plain_drf(): ...` runs the block with the mixin switched off (DRF's own)."""

    @contextmanager
    def _plain():
        with monkeypatch.context() as patch:
            patch.setattr(
                FastOutputMixin, "to_representation", serializers.Serializer.to_representation
            )
            yield

    return _plain


@pytest.fixture
def drf_output(plain_drf):
    """`drf_output(serializer_factory)`: the serializer's data as plain DRF makes it."""

    def _output(factory):
        with plain_drf():
            return factory().data

    return _output


class Thing:
    def __init__(self, **values):
        self.__dict__.update(values)


class Inner(FastOutputMixin, serializers.Serializer):
    name = serializers.CharField()


class ThingSerializer(FastOutputMixin, serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    count = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=8, decimal_places=2)
    ratio = serializers.DecimalField(max_digits=5, decimal_places=3)
    when = serializers.DateTimeField()
    day = serializers.DateField(allow_null=True)
    flag = serializers.BooleanField()
    kind = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")])
    computed = serializers.CharField()  # a method on the object: DRF calls it
    missing = serializers.CharField(default="fallback")
    nested_name = serializers.CharField(source="inner.name")
    inner = Inner()
    method = serializers.SerializerMethodField()
    secret = serializers.CharField(write_only=True)

    def get_method(self, obj):
        return "from method"


def _thing(**overrides):
    values = {
        "id": "4b8d3e0c-8f43-4f0e-9d0c-0e7b9f5f1a2b",
        "title": 42,
        "count": "7",
        "price": Decimal("12.50"),
        "ratio": Decimal("0.5"),  # not at the field's scale: quantized as DRF does
        "when": dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC),
        "day": None,
        "flag": 1,
        "kind": "b",
        "computed": lambda: "called",
        "inner": Thing(name="in"),
        "secret": "never shown",
    }
    values.update(overrides)
    return Thing(**values)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"price": "3.1"},
        {"price": 3},
        {"price": Decimal("-0.00")},
        {"price": Decimal("123456.78")},
        {"price": Decimal("-12345.60")},
        {"ratio": Decimal("12.345")},
        {"day": dt.date(2026, 1, 2)},
    ],
)
def test_plain_objects_come_out_as_drf_makes_them(drf_output, overrides):
    thing = _thing(**overrides)
    fast = ThingSerializer(thing).data
    assert fast == drf_output(lambda: ThingSerializer(thing))
    assert list(fast) == list(drf_output(lambda: ThingSerializer(thing)))
    assert "secret" not in fast


def test_mappings_come_out_as_drf_makes_them(drf_output):
    row = {"tax_rate": "4b8d3e0c-8f43-4f0e-9d0c-0e7b9f5f1a2b", "name": "21%",
           "percentage": "21.00", "base": Decimal("10.00"), "tax": "2.1"}  # fmt: skip
    fast = record_serializers.TaxBreakdownSerializer(row).data
    assert fast == drf_output(lambda: record_serializers.TaxBreakdownSerializer(row))


@pytest.mark.django_db
def test_every_records_output_serializer_matches_drf_on_the_demo_data(settings, drf_output):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    cases = [
        (record_serializers.TaxRateSerializer, TaxRate.objects.all()),
        (record_serializers.ContactSerializer, Contact.objects.all()),
        (record_serializers.ProductSerializer, Product.objects.all()),
        (record_serializers.InvoiceSerializer, Invoice.objects.all()),
        (record_serializers.ChangeRecordSerializer, ChangeRecord.objects.all()[:200]),
    ]
    for serializer_class, queryset in cases:
        rows = list(queryset)
        fast = serializer_class(rows, many=True).data
        assert fast == drf_output(lambda c=serializer_class, r=rows: c(r, many=True))


@pytest.mark.django_db
def test_the_invoice_list_body_is_unchanged(settings, plain_drf, role_client):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    client = role_client("viewer")
    fast = client.get("/api/v1/invoices/?page_size=100")
    with plain_drf():
        plain = client.get("/api/v1/invoices/?page_size=100")
    assert fast.status_code == plain.status_code == 200
    assert len(fast.json()["results"]) == 50
    assert fast.content == plain.content
