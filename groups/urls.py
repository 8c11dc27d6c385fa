from django.urls import path

from . import public, views

app_name = "groups"

org = "o/<slug:org_slug>/"
group = org + "groups/<int:pk>/"

urlpatterns = [
    path("g/<str:token>/", public.invite, name="invite"),
    path(org + "groups/", views.group_list, name="groups"),
    path(org + "groups/new/", views.group_create, name="group_create"),
    path(group, views.group_detail, name="group"),
    path(group + "edit/", views.group_edit, name="group_edit"),
    path(group + "archive/", views.group_archive, name="group_archive"),
    path(group + "members/add/", views.member_add, name="member_add"),
    path(group + "members/<int:membership_pk>/leave/", views.member_leave, name="member_leave"),
    path(group + "roster/", views.roster_check, name="roster_check"),
    path(group + "roster/<int:check_pk>/", views.roster_result, name="roster_result"),
    path(group + "roster/<int:check_pk>/record/", views.roster_record, name="roster_record"),
    path(org + "whatsapp-accounts/", views.staff_account_list, name="staff_accounts"),
    path(org + "whatsapp-accounts/<int:pk>/", views.staff_account_edit, name="staff_account"),
    path(org + "whatsapp-policy/", views.policy_list, name="policies"),
    path(org + "whatsapp-policy/<int:pk>/", views.policy_edit, name="policy_edit"),
    path(org + "whatsapp-policy/<int:pk>/publish/", views.policy_publish, name="policy_publish"),
    path(org + "whatsapp-policy/acknowledge/", views.policy_acknowledge, name="policy_acknowledge"),
]
