from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("accounts.urls")),
    path("", include("groups.urls")),
    # consents.urls holds its organisation pages (/o/<org_slug>/...) and the public /c/<token>/.
    path("", include("consents.urls")),
    path("o/<slug:org_slug>/", include("evidence.urls")),
    path("o/<slug:org_slug>/", include("jobs.urls")),
    path("o/<slug:org_slug>/", include("processing.urls")),
    path("o/<slug:org_slug>/", include("api.key_urls")),
    # rights_requests.urls holds its organisation pages (/o/<org_slug>/requests/...) and the
    # public request pages (/r/...).
    path("", include("rights_requests.urls")),
]

# An address under /api/ answers JSON even when it matches no route (api.errors).
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"
