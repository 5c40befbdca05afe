"""`/api/v1/integrations/connections/...` and `/api/v1/integrations/sync-runs/...`."""

from project.api.routers import Router

from . import views

router = Router()
router.register("connections", views.ConnectionViewSet, basename="connections")
router.register("sync-runs", views.SyncRunViewSet, basename="sync-runs")

urlpatterns = router.urls
