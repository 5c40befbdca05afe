"""A small client for the sandbox's control API (tests, demos, the sync issue's fixtures)."""

import httpx


class SandboxControl:
    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/_sandbox", timeout=30)

    def _call(self, method: str, path: str, json=None):
        response = self._http.request(method, path, json=json)
        response.raise_for_status()
        return response.json() if response.content else None

    def close(self) -> None:
        self._http.close()

    def state(self) -> dict:
        return self._call("GET", "/state")

    def reset(self, *, seed: str = "demo") -> dict:
        return self._call("POST", "/reset", {"seed": seed})

    def seed(self, *, contacts: int = 0, sales_invoices: int = 0) -> dict:
        return self._call("POST", "/seed", {"contacts": contacts, "sales_invoices": sales_invoices})

    def clock(self, **change) -> dict:
        """`advance=seconds`, `set=epoch`, `freeze=bool`; no argument reads the clock."""
        return self._call("POST", "/clock", change) if change else self._call("GET", "/clock")

    def rate_limit(
        self, *, enabled: bool = True, limit: int | None = None, window: int | None = None
    ) -> dict:
        return self._call(
            "POST", "/rate_limit", {"enabled": enabled, "limit": limit, "window": window}
        )

    def plan(self, *, max_contacts: int | None = None, max_sales_invoices: int | None = None):
        return self._call(
            "POST",
            "/plan",
            {"max_contacts": max_contacts, "max_sales_invoices": max_sales_invoices},
        )

    def add_token(self, token: str, scopes: list[str]) -> dict:
        return self._call("POST", "/tokens", {"token": token, "scopes": scopes})

    def fault(self, kind: str, *, method: str = "*", path: str = "*", **options) -> dict:
        return self._call(
            "POST", "/faults", {"kind": kind, "method": method, "path": path, **options}
        )

    def faults(self) -> list[dict]:
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def requests(self) -> list[dict]:
        return self._call("GET", "/requests")

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def calls(self) -> list[tuple[str, str, int | None]]:
        """The request log as (method, path, status) triples, for exact assertions."""
        return [(r["method"], r["path"], r["status"]) for r in self.requests()]

    def person_edit_contact(self, contact_id: str, **attrs) -> dict:
        return self._call("PATCH", f"/person/contacts/{contact_id}", attrs)

    def person_delete_contact(self, contact_id: str) -> None:
        self._call("DELETE", f"/person/contacts/{contact_id}")

    def person_edit_invoice(self, invoice_id: str, **attrs) -> dict:
        return self._call("PATCH", f"/person/sales_invoices/{invoice_id}", attrs)

    def person_delete_invoice(self, invoice_id: str) -> None:
        self._call("DELETE", f"/person/sales_invoices/{invoice_id}")

    def person_send_invoice(self, invoice_id: str) -> dict:
        return self._call("POST", f"/person/sales_invoices/{invoice_id}/send", {})

    def person_mark_uncollectible(self, invoice_id: str) -> dict:
        return self._call("POST", f"/person/sales_invoices/{invoice_id}/uncollectible", {})

    def person_register_payment(self, invoice_id: str, *, price: str, payment_date: str) -> dict:
        return self._call(
            "POST",
            f"/person/sales_invoices/{invoice_id}/payments",
            {"price": price, "payment_date": payment_date},
        )
