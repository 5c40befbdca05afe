"""Seed the soak database through the services (run by `bench/soak.py`, soak settings).

    python bench/soak_seed.py PLAN_JSON

PLAN_JSON: {"password": ..., "users": [{"email": ..., "role": ...}], "contacts": N,
"products": N, "sandbox_url": ... or null}. Prints one JSON line: the ids the traffic
needs (tax rates, products, contacts) and the connection's id, if any.
"""

import json
import os
import sys
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from accounts import services as accounts_services  # noqa: E402
from integrations import services as integrations_services  # noqa: E402
from integrations.models import Provider  # noqa: E402
from records import services as records_services  # noqa: E402
from records.models import Interface, TaxRate  # noqa: E402
from sandbox.seed import DEFAULT_ADMINISTRATION_ID  # noqa: E402


def main() -> None:
    plan = json.loads(sys.argv[1])
    for user in plan["users"]:
        accounts_services.user_create(
            email=user["email"],
            name=user["email"].split("@")[0],
            role=user["role"],
            password=plan["password"],
        )
    rates = list(TaxRate.objects.order_by("-percentage"))
    products = []
    for number in range(plan["products"]):
        product = records_services.product_create(
            sku=f"SEED-{number:04d}",
            title=f"Seed product {number}",
            price=Decimal(f"{5 + number * 3}.{number % 100:02d}"),
            tax_rate=rates[number % len(rates)],
            by=None,
            via=Interface.API,
        )
        products.append(str(product.pk))
    contacts = []
    for number in range(plan["contacts"]):
        contact = records_services.contact_create(
            company_name=f"Seed customer {number} B.V.",
            email=f"seed-{number}@example.com",
            country="NL" if number % 2 else "BE",
            city="Utrecht",
            by=None,
            via=Interface.API,
        )
        contacts.append(str(contact.pk))
    connection_id = None
    if plan.get("sandbox_url"):
        connection = integrations_services.connection_create(
            provider=Provider.MONEYBIRD,
            name="Moneybird sandbox (soak)",
            base_url=plan["sandbox_url"],
            administration_id=DEFAULT_ADMINISTRATION_ID,
            api_token=settings.SANDBOX_TOKEN,
        )
        connection_id = str(connection.pk)
    print(
        json.dumps(
            {
                "tax_rates": [str(rate.pk) for rate in rates],
                "products": products,
                "contacts": contacts,
                "connection": connection_id,
            }
        )
    )


if __name__ == "__main__":
    main()
