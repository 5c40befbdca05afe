"""`/api/v1/integrations/connections/...`."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("connections", views.ConnectionViewSet, basename="connections")

urlpatterns = router.urls
