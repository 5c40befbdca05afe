"""`/api/v1/invoices/{id}/send/`: integrations' operation on a records resource, mounted
at the API root next to records' `invoices/` routes (records does not know it)."""

from django.urls import path

from project.api.routers import UUID_ID_CONVERTER

from . import views

urlpatterns = [
    path(
        f"invoices/<{UUID_ID_CONVERTER}:pk>/send/",
        views.InvoiceSendView.as_view(),
        name="invoices-send",
    ),
]
