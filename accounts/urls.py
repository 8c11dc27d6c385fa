from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(
            success_url=reverse_lazy("accounts:password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            success_url=reverse_lazy("accounts:password_reset_done"),
            email_template_name="emails/password_reset.txt",
            subject_template_name="emails/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/set/<uidb64>/<token>/",
        views.SetPasswordView.as_view(),
        name="set_password",
    ),
    path("password/set/done/", views.password_reset_complete, name="password_reset_complete"),
    path("organisations/", views.organisation_list, name="organisations"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("invitations/<str:token>/accept/", views.invitation_accept, name="invitation_accept"),
    path("invitations/<str:token>/decline/", views.invitation_decline, name="invitation_decline"),
    path("o/<slug:org_slug>/", views.dashboard, name="dashboard"),
    path("o/<slug:org_slug>/organisation/", views.organisation_edit, name="organisation_edit"),
    path("o/<slug:org_slug>/members/", views.member_list, name="members"),
    path("o/<slug:org_slug>/members/<int:pk>/role/", views.member_role, name="member_role"),
    path("o/<slug:org_slug>/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path(
        "o/<slug:org_slug>/members/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("o/<slug:org_slug>/activity/", views.activity, name="activity"),
]
