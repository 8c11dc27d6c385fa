"""Pages that carry out a right on the person's data (rights_requests.fulfilment_views)."""

from django.urls import path  # noqa: F401

urlpatterns = []
