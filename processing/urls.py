from django.urls import path

from . import views

app_name = "processing"

# Mounted under /o/<org_slug>/ (accounts.access.org_view).
urlpatterns = [
    path("processing/", views.register_list, name="register"),
    path("processing/export/", views.export, name="export"),
    path("processing/new/", views.activity_new, name="activity_new"),
    path("processing/new/blank/", views.activity_create, name="activity_create"),
    path("processing/<int:pk>/", views.activity_detail, name="activity"),
    path("processing/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("processing/<int:pk>/retire/", views.activity_retire, name="activity_retire"),
    path("processing/processors/", views.processor_list, name="processors"),
    path("processing/processors/new/", views.processor_create, name="processor_create"),
    path("processing/processors/<int:pk>/", views.processor_detail, name="processor"),
    path("processing/processors/<int:pk>/edit/", views.processor_edit, name="processor_edit"),
    path("processing/processors/<int:pk>/retire/", views.processor_retire, name="processor_retire"),
]
