from rest_framework.routers import SimpleRouter

from properties.apis import AmenityViewSet, PropertyViewSet

router = SimpleRouter()
router.register("properties", PropertyViewSet, basename="property")
router.register("amenities", AmenityViewSet, basename="amenity")

urlpatterns = router.urls
