"""The interface follows the chosen language; Arabic is laid out right to left."""

import pytest

pytestmark = pytest.mark.django_db

LTR_CSS = "/static/vendor/bootstrap/bootstrap.min.css"
RTL_CSS = "/static/vendor/bootstrap/bootstrap.rtl.min.css"


def _choose_language(client, code):
    response = client.post("/i18n/setlang/", {"language": code, "next": "/o/clinic/"})
    assert response.status_code == 302
    assert response["Location"] == "/o/clinic/"
    return client.get("/o/clinic/")


def test_the_dashboard_renders_in_english_by_default(client, dpo):
    client.force_login(dpo)
    page = client.get("/o/clinic/").content.decode()
    assert '<html lang="en" dir="ltr">' in page
    assert LTR_CSS in page


@pytest.mark.parametrize(
    ("code", "direction", "css", "other_css"),
    [("es", "ltr", LTR_CSS, RTL_CSS), ("ar", "rtl", RTL_CSS, LTR_CSS)],
    ids=["spanish-left-to-right", "arabic-right-to-left"],
)
def test_the_dashboard_renders_in_the_chosen_language_and_its_direction(
    client, dpo, code, direction, css, other_css
):
    client.force_login(dpo)
    page = _choose_language(client, code).content.decode()
    assert f'<html lang="{code}" dir="{direction}">' in page
    assert css in page
    assert other_css not in page


def test_the_language_cookie_alone_is_enough(client, dpo):
    client.force_login(dpo)
    client.cookies["django_language"] = "ar"
    assert '<html lang="ar" dir="rtl">' in client.get("/o/clinic/").content.decode()
    client.cookies["django_language"] = "es"
    assert '<html lang="es" dir="ltr">' in client.get("/o/clinic/").content.decode()


def test_the_footer_offers_every_language(client, dpo):
    client.force_login(dpo)
    page = client.get("/o/clinic/").content.decode()
    for code in ("en", "es", "ar"):
        assert f'name="language" value="{code}"' in page
