from rest_framework.routers import SimpleRouter

from properties.apis import PropertyViewSet

router = SimpleRouter()
router.register("properties", PropertyViewSet, basename="property")

urlpatterns = router.urls
