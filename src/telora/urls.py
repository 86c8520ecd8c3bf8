from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from telora.api.main import api

urlpatterns = [
    path("api/", api.urls),
    path("", include("telora.ui.auth_urls")),
    path("", include("telora.ui.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
