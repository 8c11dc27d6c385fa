from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/status/", views.export_status, name="export_status"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("subjects/<int:pk>/certificate/", views.certificate_request, name="certificate"),
    path("evidence/verify/", views.verify, name="verify"),
    path("evidence/signing/", views.signing_certificate, name="signing"),
]
