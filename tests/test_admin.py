"""Every model has an admin page (STYLE.md), and each list opens for the service operator."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = {
    "accounts",
    "consents",
    "groups",
    "evidence",
    "jobs",
    "processing",
    "rights_requests",
}


def test_every_project_model_is_registered_in_the_admin():
    missing = [
        model.__name__
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models()
        if not model._meta.model_name.startswith("historical") and model not in admin.site._registry
    ]
    assert missing == []


def test_every_admin_list_opens(client, org, dpo):
    superuser = UserFactory(email="root@example.org", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    for model in admin.site._registry:
        if model._meta.app_label not in PROJECT_APPS:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
