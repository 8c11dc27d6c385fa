from django.urls import path

from . import fulfilment_urls, public_views, views

app_name = "rights_requests"

org = "o/<slug:org_slug>/requests/"
one = org + "<int:pk>/"

urlpatterns = [
    # Public: the person's own pages (rights_requests.public_views), no login.
    path("c/<slug:token>/rights/", public_views.link_page, name="link"),
    path("c/<slug:token>/rights/code/", public_views.link_code, name="link_code"),
    path("c/<slug:token>/rights/letters/<int:pk>/", public_views.link_letter, name="link_letter"),
    path("r/<slug:slug>/", public_views.public_form, name="public_form"),
    path("r/<slug:slug>/sent/", public_views.public_sent, name="public_sent"),
    # The register, for members (/o/<org_slug>/requests/...).
    path(org, views.register, name="list"),
    path(org + "deadlines/", views.deadlines, name="deadlines"),
    path(org + "new/", views.log, name="log"),
    path(org + "new/lookup/", views.log_lookup, name="log_lookup"),
    path(one, views.detail, name="detail"),
    path(one + "verify/", views.verify, name="verify"),
    path(one + "clock/stop/", views.clock_stop, name="clock_stop"),
    path(one + "clock/restart/", views.clock_restart, name="clock_restart"),
    path(one + "extend/", views.extend, name="extend"),
    path(one + "assign/", views.assign, name="assign"),
    path(one + "answer/", views.answer, name="answer"),
    path(one + "reject/", views.reject, name="reject"),
    path(one + "withdrawn/", views.withdrawn, name="withdrawn"),
    path(one + "letters/new/", views.letter_new, name="letter_new"),
    path(one + "letters/<int:letter_pk>/", views.letter_download, name="letter"),
    path(one + "letters/<int:letter_pk>/send/", views.letter_send, name="letter_send"),
    path(one + "files/<int:attachment_pk>/", views.attachment_download, name="attachment"),
]

# Fulfilment (what each right does to the person's data) keeps its pages in their own module.
urlpatterns += fulfilment_urls.urlpatterns
