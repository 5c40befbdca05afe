"""Bench-only URLs for the records benchmark (never in production URLs).

`/bench/invoices-bare?page_size=50` answers the first page of `GET /api/v1/invoices/`
without DRF: the same Bearer token check (one cache read, one query), the same
`view_invoice` permission (one query), the same selector and page (the invoices with
their contact, lines and payments: three queries), each row's columns as JSON through
Django's `JsonResponse`. What the API costs on top of this is DRF's: serializers,
pagination, filter backends, content negotiation.
"""

from django.http import JsonResponse
from django.urls import path

from accounts.models import User
from accounts.tokens import access_token_lookup
from bench.urls import handler404, handler500
from bench.urls import urlpatterns as bench_urlpatterns
from records import selectors
from records.models import Invoice, InvoiceLine, Payment

__all__ = ["handler404", "handler500", "urlpatterns"]

INVOICE_COLUMNS = [f.attname for f in Invoice._meta.concrete_fields]
LINE_COLUMNS = [f.attname for f in InvoiceLine._meta.concrete_fields if f.name != "invoice"]
PAYMENT_COLUMNS = [f.attname for f in Payment._meta.concrete_fields if f.name != "invoice"]


def _user(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    grant = access_token_lookup(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        return None
    try:  # the query TokenAuthentication makes (accounts/api/authentication.py)
        return User.objects.get(pk=grant.user_id, is_active=True)
    except User.DoesNotExist:
        return None


def _row(obj, columns) -> dict:
    return {name: getattr(obj, name) for name in columns}


def invoices_bare(request):
    user = _user(request)
    if user is None:
        return JsonResponse({"detail": "Not authenticated."}, status=401)
    if not user.has_perm("records.view_invoice"):
        return JsonResponse({"detail": "Forbidden."}, status=403)
    size = max(1, min(int(request.GET.get("page_size", 25)), 100))
    invoices = selectors.invoice_list(viewer=user).order_by("-created_at")[:size]
    results = [
        {
            **_row(invoice, INVOICE_COLUMNS),
            "status": invoice.effective_status,
            "total_due": invoice.total_due,
            "lines": [_row(line, LINE_COLUMNS) for line in invoice.lines.all()],
            "payments": [_row(payment, PAYMENT_COLUMNS) for payment in invoice.payments.all()],
        }
        for invoice in invoices
    ]
    return JsonResponse({"next": None, "previous": None, "results": results})


urlpatterns = [
    path("bench/invoices-bare", invoices_bare),
    *bench_urlpatterns,
]
