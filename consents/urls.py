from django.urls import include, path

from . import import_views, link_views, public_views, views

app_name = "consents"

# Organisation pages, mounted under /o/<org_slug>/ (accounts.access.org_view).
org_patterns = [
    path("capture/", views.capture, name="capture"),
    path("capture/lookup/", views.capture_lookup, name="capture_lookup"),
    path("capture/purposes/", views.capture_purposes, name="capture_purposes"),
    path("capture/receipt/<slug:key>/", views.receipt, name="receipt"),
    path("subjects/", views.subject_list, name="subjects"),
    path("subjects/<int:pk>/", views.subject_detail, name="subject"),
    path("subjects/<int:pk>/withdraw/", views.subject_withdraw, name="withdraw"),
    path("proofs/files/<int:pk>/", views.proof_file, name="proof_file"),
    path("proofs/files/<int:pk>/jpeg/", views.proof_rendition, name="proof_rendition"),
    path("register/", views.register, name="register"),
    path("register.csv", views.register_csv, name="register_csv"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/checkpoints/<int:pk>/", views.checkpoint_download, name="checkpoint_download"),
    path("purposes/", views.purpose_list, name="purposes"),
    path("purposes/<int:pk>/", views.purpose_edit, name="purpose_edit"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/new/", views.notice_create, name="notice_create"),
    path("notices/reconsent/", views.reconsent, name="reconsent"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
    path("notices/<int:pk>/edit/", views.notice_edit, name="notice_edit"),
    path("notices/<int:pk>/publish/", views.notice_publish, name="notice_publish"),
    path("import/", import_views.import_consents, name="import"),
    path("unconfirmed/", views.unconfirmed_answers, name="unconfirmed"),
    path("unconfirmed/<int:pk>/dismiss/", views.unconfirmed_dismiss, name="unconfirmed_dismiss"),
    path("subjects/<int:pk>/link/", link_views.link_create, name="link_create"),
    path("links/<int:pk>/revoke/", link_views.link_revoke, name="link_revoke"),
    path("links/generic/", link_views.generic_links, name="generic_links"),
    path("links/generic/<int:pk>/poster/", link_views.generic_poster, name="generic_poster"),
    path("links/generic/<int:pk>/revoke/", link_views.generic_revoke, name="generic_revoke"),
]

urlpatterns = [
    # Public: a person's own consent link (consents.public_views), no login.
    path("c/<slug:token>/", public_views.consent_page, name="public"),
    path("c/<slug:token>/withdraw/", public_views.withdraw, name="public_withdraw"),
    path("o/<slug:org_slug>/", include(org_patterns)),
]
