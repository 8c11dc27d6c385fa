from django.urls import path

from . import checkpoint_views, views

app_name = "evidence"

urlpatterns = [
    path("evidence/pack/", views.pack_request, name="pack"),
    path("subjects/<int:pk>/certificate/", views.certificate_request, name="certificate"),
    path("evidence/verify/", views.verify, name="verify"),
    path("evidence/signing/", views.signing_certificate, name="signing"),
    path(
        "ledger/checkpoints/upload/",
        checkpoint_views.checkpoint_upload,
        name="checkpoint_upload",
    ),
]
