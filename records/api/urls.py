"""`/api/v1/contacts/`, `/products/`, `/tax-rates/`, `/invoices/` (and their actions)."""

from project.api.routers import Router

from . import views

router = Router()
router.register("contacts", views.ContactViewSet, basename="contacts")
router.register("products", views.ProductViewSet, basename="products")
router.register("tax-rates", views.TaxRateViewSet, basename="tax-rates")
router.register("invoices", views.InvoiceViewSet, basename="invoices")

urlpatterns = router.urls
