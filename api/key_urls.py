from django.urls import path

from . import key_views

app_name = "api"

urlpatterns = [
    path("api-keys/", key_views.key_list, name="keys"),
    path("api-keys/<int:pk>/revoke/", key_views.key_revoke, name="key_revoke"),
    path("webhooks/", key_views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/disable/", key_views.webhook_disable_view, name="webhook_disable"),
]
