"""Pages that carry out a right on the person's data (rights_requests.fulfilment_views)."""

from django.urls import path

from . import fulfilment_views as views

_base = "o/<slug:org_slug>/requests/<int:pk>/fulfilment/"

urlpatterns = [
    path(_base, views.fulfilment_page, name="fulfilment"),
    path(f"{_base}access/", views.access_start, name="fulfil_access"),
    path(f"{_base}portability/", views.portability_start, name="fulfil_portability"),
    path(f"{_base}rectification/", views.rectification, name="fulfil_rectification"),
    path(f"{_base}erasure/", views.erasure, name="fulfil_erasure"),
    path(f"{_base}restriction/", views.restriction, name="fulfil_restriction"),
    path(f"{_base}restriction/lift/", views.restriction_lift, name="fulfil_restriction_lift"),
    path(f"{_base}objection/", views.objection, name="fulfil_objection"),
    path(f"{_base}withdrawal/", views.withdrawal, name="fulfil_withdrawal"),
]
