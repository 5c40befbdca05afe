"""`/api/v1/invoices/{id}/send/`: integrations' operation on a records resource, mounted
at the API root next to records' `invoices/` routes (records does not know it)."""

from django.urls import re_path

from project.api.views import UUID_LOOKUP

from . import views

urlpatterns = [
    re_path(
        rf"^invoices/(?P<pk>{UUID_LOOKUP})/send/$",
        views.InvoiceSendView.as_view(),
        name="invoices-send",
    ),
]
