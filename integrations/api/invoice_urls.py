"""`/api/v1/invoices/{id}/send/`: integrations' operation on a records resource, mounted
at the API root next to records' `invoices/` routes (records does not know it)."""

from django.urls import path

from . import views

urlpatterns = [
    path("invoices/<uuid:pk>/send/", views.InvoiceSendView.as_view(), name="invoices-send"),
]
