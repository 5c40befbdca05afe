"""The soak's traffic: what each front end does, picked at random until the deadline.

Writers (Administrators, Employees) read lists with filters, details and history, create
contacts, products and draft invoices, finalize their drafts, register payments on their
open invoices, PATCH their own contacts and, with If-Match, three shared ones (contention:
412s expected), refresh their tokens and log in again now and then. The Viewer reads and
tries a write now and then (403 expected, nothing written). Each write carries a unique
tag: a contact's email, a product's SKU, an invoice's notes, a payment's reference, a
PATCHed contact's city.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

from .soak_client import API, Client, SessionClient, Write


class Frontend:
    """The mix, on top of a client class (`AppUser`, `AdminSessionUser`)."""

    def tag(self, kind: str) -> str:
        self.seq += 1
        return f"soak-{self.run_id}-{self.name}-{kind}-{self.seq}"

    def run(self, deadline: float) -> None:
        if not self.login():
            raise RuntimeError(f"{self.name}: cannot log in")
        ops = self.viewer_ops() if self.role == "viewer" else self.writer_ops()
        names, weights = zip(*ops, strict=True)
        while time.monotonic() < deadline:
            self.rng.choices(names, weights)[0]()

    def writer_ops(self):
        return [
            (self.read_list, 30),
            (self.read_detail, 15),
            (self.read_next_page, 5),
            (self.create_contact, 7),
            (self.create_product, 2),
            (self.create_invoice, 10),
            (self.finalize, 7),
            (self.pay, 7),
            (self.patch_own_contact, 4),
            (self.patch_shared_contact, 5),
            (self.refresh_op, 2),
            (self.login_op, 0.4),
        ]

    def viewer_ops(self):
        return [
            (self.read_list, 50),
            (self.read_detail, 25),
            (self.read_next_page, 10),
            (self.forbidden_write, 3),
            (self.refresh_op, 2),
            (self.login_op, 0.4),
        ]

    def read_list(self):
        path = self.rng.choice(
            [
                f"{API}/contacts/?search=soak&ordering=-created_at",
                f"{API}/contacts/?country=NL&page_size=50",
                f"{API}/invoices/?status=open",
                f"{API}/invoices/?status=draft&ordering=-created_at&page_size=10",
                f"{API}/invoices/?status=paid&total__gte=1.00",
                f"{API}/invoices/?issue_date__gte={date.today().isoformat()}",
                f"{API}/products/?price__gte=5.00&is_active=true",
                f"{API}/products/?search=SEED&ordering=price",
                f"{API}/tax-rates/",
                f"{API}/users/me/",
                f"{API}/users/?page_size=10",
                f"{API}/auth/sessions/",
            ]
        )
        status, _, data = self.call("GET", path)
        if status == 200 and isinstance(data, dict) and path.startswith(f"{API}/invoices/"):
            self.next_page = data.get("next")

    def read_detail(self):
        pool = [("invoices", i) for i in self.invoices[-20:]]
        pool += [("contacts", c) for c in self.seed["contacts"]] + [
            ("products", p) for p in self.seed["products"][:5]
        ]
        kind, pk = self.rng.choice(pool)
        suffix = "history/" if self.rng.random() < 0.2 else ""
        self.call("GET", f"{API}/{kind}/{pk}/{suffix}")

    def read_next_page(self):
        if not self.next_page:
            return self.read_list()
        path = self.next_page.split("://", 1)[-1]
        path = path[path.index("/") :]
        self.next_page = None
        self.call("GET", path)

    def create_contact(self):
        tag = self.tag("contact")
        write = self.ledger.write(Write("contact_create", tag, self.name))
        body = {
            "company_name": f"Soak {tag}",
            "email": f"{tag}@example.com",
            "country": "NL",
            "city": "Amsterdam",
        }
        _, _, data = self.call("POST", f"{API}/contacts/", body, write=write)
        if write.outcome == "ack":
            write.result_id = data["id"]
            self.contacts[data["id"]] = data["version"]

    def create_product(self):
        tag = self.tag("product")
        write = self.ledger.write(Write("product_create", tag, self.name))
        body = {
            "sku": tag,
            "title": f"Soak product {self.seq}",
            "price": f"{self.rng.randint(1, 500)}.{self.rng.randint(0, 99):02d}",
            "tax_rate": self.rng.choice(self.seed["tax_rates"]),
        }
        _, _, data = self.call("POST", f"{API}/products/", body, write=write)
        if write.outcome == "ack":
            write.result_id = data["id"]

    def create_invoice(self):
        tag = self.tag("invoice")
        lines = []
        for _ in range(self.rng.randint(1, 3)):
            if self.rng.random() < 0.6:
                lines.append(
                    {
                        "product": self.rng.choice(self.seed["products"]),
                        "quantity": str(self.rng.randint(1, 5)),
                    }
                )
            else:
                lines.append(
                    {
                        "description": "Soak work",
                        "quantity": "1.500",
                        "unit_price": f"{self.rng.randint(10, 300)}.00",
                        "tax_rate": self.rng.choice(self.seed["tax_rates"]),
                    }
                )
        own = list(self.contacts)
        contact = self.rng.choice(own) if own and self.rng.random() < 0.7 else None
        contact = contact or self.rng.choice(self.seed["contacts"])
        write = self.ledger.write(
            Write("invoice_create", tag, self.name, data={"lines": len(lines)})
        )
        body = {"contact": contact, "notes": tag, "lines": lines}
        _, _, data = self.call("POST", f"{API}/invoices/", body, write=write)
        if write.outcome == "ack":
            write.result_id = data["id"]
            self.drafts.append(data["id"])
            self.invoices.append(data["id"])

    def finalize(self):
        if not self.drafts:
            return self.create_invoice()
        pk = self.drafts.pop(self.rng.randrange(len(self.drafts)))
        write = self.ledger.write(Write("invoice_finalize", pk, self.name, target=pk))
        _, _, data = self.call("POST", f"{API}/invoices/{pk}/finalize/", write=write)
        if write.outcome == "ack":
            write.data["number"] = data["number"]
            self.open[pk] = Decimal(data["total_due"])

    def pay(self):
        payable = [pk for pk, due in self.open.items() if due > 0]
        if not payable:
            return self.finalize()
        pk = self.rng.choice(payable)
        due = self.open[pk]
        amount = (
            due if self.rng.random() < 0.3 else min(due, Decimal(self.rng.randint(100, 5000)) / 100)
        )
        tag = self.tag("payment")
        write = self.ledger.write(
            Write("payment", tag, self.name, target=pk, data={"amount": str(amount)})
        )
        body = {
            "amount": str(amount),
            "date": date.today().isoformat(),
            "method": "bank_transfer",
            "reference": tag,
        }
        _, _, data = self.call("POST", f"{API}/invoices/{pk}/payments/", body, write=write)
        if write.outcome == "ack":
            self.open[pk] = Decimal(data["total_due"])
            ids = [p["id"] for p in data["payments"] if p["reference"] == tag]
            write.result_id = ids[0] if len(ids) == 1 else f"answer listed {len(ids)}"
        elif write.outcome == "unknown":
            self.open.pop(pk)  # state unknown: no more payments on it

    def patch_own_contact(self):
        if not self.contacts:
            return self.create_contact()
        pk = self.rng.choice(list(self.contacts))
        tag = self.tag("city")
        version = self.contacts[pk]
        write = self.ledger.write(
            Write("contact_patch", tag, self.name, target=pk, data={"if_match": version})
        )
        _, _, data = self.call(
            "PATCH",
            f"{API}/contacts/{pk}/",
            {"city": tag[-100:]},
            write=write,
            headers={"If-Match": f'"{version}"'},
        )
        if write.outcome == "ack":
            write.data["version"] = data["version"]
            self.contacts[pk] = data["version"]
        elif write.outcome == "unknown":
            self.contacts.pop(pk)

    def patch_shared_contact(self):
        """Contention: every writer PATCHes the same few seeded contacts with If-Match."""
        pk = self.rng.choice(self.seed["contacts"][:3])
        status, _, data = self.call("GET", f"{API}/contacts/{pk}/")
        if status != 200:
            return
        version = data["version"]
        tag = self.tag("shared")
        write = self.ledger.write(
            Write("shared_patch", tag, self.name, target=pk, data={"if_match": version})
        )
        _, _, data = self.call(
            "PATCH",
            f"{API}/contacts/{pk}/",
            {"city": tag[-100:]},
            write=write,
            headers={"If-Match": f'"{version}"'},
        )
        if write.outcome == "ack":
            write.data["version"] = data["version"]

    def forbidden_write(self):
        tag = self.tag("forbidden")
        write = self.ledger.write(Write("forbidden_create", tag, self.name))
        self.call(
            "POST",
            f"{API}/contacts/",
            {"company_name": tag, "email": f"{tag}@example.com"},
            write=write,
        )

    def refresh_op(self):
        if not self.refresh():
            self.login()

    def login_op(self):
        self.login()


class AppUser(Frontend, Client):
    """A non-browser front end: Bearer tokens from `client: app` logins."""


class AdminSessionUser(Frontend, SessionClient):
    """An Administrator using the API with a Django admin session."""
