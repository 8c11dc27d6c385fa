from django.urls import path  # noqa: F401 (the register's pages are added here)

from . import fulfilment_urls

app_name = "rights_requests"

urlpatterns = []

# Fulfilment (what each right does to the person's data) keeps its pages in their own module.
urlpatterns += fulfilment_urls.urlpatterns
