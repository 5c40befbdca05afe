"""Seed the Dutch VAT rates: 21 % (high), 9 % (low), 0 % (zero), named as in Moneybird."""

from decimal import Decimal

from django.db import migrations

RATES = [("21% btw", Decimal("21.00")), ("9% btw", Decimal("9.00")), ("0% btw", Decimal("0.00"))]


def seed(apps, schema_editor):
    TaxRate = apps.get_model("records", "TaxRate")
    for name, percentage in RATES:
        if not TaxRate.objects.filter(percentage=percentage).exists():
            TaxRate.objects.create(name=name, percentage=percentage)


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
