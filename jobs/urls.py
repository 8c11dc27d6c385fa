from django.urls import path

from . import views

app_name = "jobs"

# The page keeps the address and name users know ("Exports"): it lists every background job.
urlpatterns = [
    path("exports/", views.job_list, name="list"),
    path("exports/<int:pk>/status/", views.job_status, name="status"),
    path("exports/<int:pk>/download/", views.job_download, name="download"),
]
