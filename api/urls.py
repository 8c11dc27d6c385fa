"""/api/v1/...: the REST API (namespace api_v1), /api/schema/ and /api/docs/ (public: they describe
the API, they hold no data)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

app_name = "api_v1"

urlpatterns = [
    path("v1/consent-check/", views.ConsentCheckView.as_view(), name="consent_check"),
    path("v1/subjects/", views.SubjectList.as_view(), name="subject_list"),
    path("v1/subjects/<int:pk>/", views.SubjectDetail.as_view(), name="subject_detail"),
    path("v1/events/", views.EventList.as_view(), name="event_list"),
    path("v1/events/<int:sequence>/", views.EventDetail.as_view(), name="event_detail"),
    path("v1/consent-states/", views.StateList.as_view(), name="state_list"),
    path("v1/purposes/", views.PurposeList.as_view(), name="purpose_list"),
    path("v1/purposes/<slug:code>/", views.PurposeDetail.as_view(), name="purpose_detail"),
    path("v1/notices/", views.NoticeList.as_view(), name="notice_list"),
    path("v1/notices/<int:pk>/", views.NoticeDetail.as_view(), name="notice_detail"),
    path("v1/groups/", views.GroupList.as_view(), name="group_list"),
    path("v1/groups/<int:pk>/", views.GroupDetail.as_view(), name="group_detail"),
    path("v1/groups/<int:pk>/members/", views.GroupMembers.as_view(), name="group_members"),
    path("v1/requests/", views.RequestList.as_view(), name="request_list"),
    path("v1/requests/<int:pk>/", views.RequestDetail.as_view(), name="request_detail"),
    path("v1/jobs/", views.JobList.as_view(), name="job_list"),
    path("v1/jobs/<int:pk>/", views.JobDetail.as_view(), name="job_detail"),
    path("v1/jobs/<int:pk>/download/", views.JobDownload.as_view(), name="job_download"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_v1:schema"), name="docs"),
]
