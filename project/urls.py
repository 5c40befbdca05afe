"""Root URLs: admin, health check, and the versioned API under `/api/v1/`."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

# Swagger UI: its scripts are this origin's files (the split view serves its start-up
# script as one too), but it styles elements inline and draws icons from data: URLs.
DOCS_CSP = {
    **settings.SECURE_CSP,
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
}

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    path(
        "docs/",
        csp_override(DOCS_CSP)(
            SpectacularSwaggerSplitView.as_view(url_name="schema", permission_classes=[])
        ),
        name="docs",
    ),
    path("", include("accounts.api.urls")),
    path("", include("records.api.urls")),
    path("integrations/", include("integrations.api.urls")),
    path("", include("integrations.api.invoice_urls")),  # invoices/{id}/send/
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Last: `/api/` paths nothing above matched (no trailing slash, unknown, bad id).
    re_path(r"^api/(?P<path>.*)$", views.api_fallback, name="api-fallback"),
]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
