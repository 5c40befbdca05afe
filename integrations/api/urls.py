"""`/api/v1/integrations/connections/...` and `/api/v1/integrations/sync-runs/...`."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("connections", views.ConnectionViewSet, basename="connections")
router.register("sync-runs", views.SyncRunViewSet, basename="sync-runs")

urlpatterns = router.urls
