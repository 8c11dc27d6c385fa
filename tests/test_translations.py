"""The Spanish and Arabic catalogues are complete, and the committed .mo files match the .po files.

A stale .mo (someone edited a .po and forgot ``compilemessages``) silently shows old or English
text, so every .po entry is checked against the compiled catalogue, not just a sample.
"""

import gettext
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ["es", "ar"]
PLURAL_FORMS = {"es": 2, "ar": 6}

# A few msgids whose translation is known, looked up through the public gettext API.
KNOWN = {
    "es": {
        "Log consent": "Registrar consentimiento",
        "Log in": "Iniciar sesión",
        "Purposes": "Finalidades",
        "Controller": "Responsable del tratamiento",
        "Spanish": "Español",
    },
    "ar": {
        "Log consent": "تسجيل موافقة",
        "Log in": "تسجيل الدخول",
        "Purposes": "الأغراض",
        "Controller": "المتحكم في البيانات",
        "Arabic": "العربية",
    },
}


def _po(lang):
    return polib.pofile(str(LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"))


def _mo(lang):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "django.mo", "rb") as fp:
        return gettext.GNUTranslations(fp)


def _key(entry):
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogue_has_no_untranslated_or_fuzzy_entries(lang):
    po = _po(lang)
    assert len(po) > 0
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated in {lang}: {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {lang}: {fuzzy[:10]}"
    assert not po.metadata_is_fuzzy, f"the {lang} header is marked fuzzy"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_header_declares_language_charset_and_plural_forms(lang):
    po = _po(lang)
    assert po.metadata["Language"] == lang
    assert "charset=UTF-8" in po.metadata["Content-Type"]
    assert f"nplurals={PLURAL_FORMS[lang]};" in po.metadata["Plural-Forms"]
    short = [e.msgid for e in po if e.msgid_plural and len(e.msgstr_plural) != PLURAL_FORMS[lang]]
    assert not short, f"plural entries without {PLURAL_FORMS[lang]} forms in {lang}: {short[:10]}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalogue_matches_every_po_entry(lang):
    po = _po(lang)
    catalog = _mo(lang)._catalog
    stale = []
    for entry in po.translated_entries():
        key = _key(entry)
        if entry.msgid_plural:
            for index, msgstr in entry.msgstr_plural.items():
                if catalog.get((key, int(index))) != msgstr:
                    stale.append(entry.msgid)
                    break
        elif catalog.get(key) != entry.msgstr:
            stale.append(entry.msgid)
    assert not stale, f"{len(stale)} entries of {lang} .mo differ from .po: {stale[:10]}"
    # Nothing in the .mo that the .po no longer has (the empty msgid is the header).
    po_keys = {_key(e) for e in po.translated_entries()}
    mo_keys = {k[0] if isinstance(k, tuple) else k for k in catalog} - {""}
    extra = sorted(mo_keys - po_keys)
    assert not extra, f"the {lang} .mo has entries the .po lacks: {extra[:10]}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_known_messages_translate_through_gettext(lang):
    translations = _mo(lang)
    for msgid, expected in KNOWN[lang].items():
        assert translations.gettext(msgid) == expected


def test_plural_forms_follow_each_language():
    es, ar = _mo("es"), _mo("ar")
    singular = "%(counter)s consent state"
    plural = "%(counter)s consent states"
    assert es.ngettext(singular, plural, 1) == "%(counter)s estado de consentimiento"
    assert es.ngettext(singular, plural, 5) == "%(counter)s estados de consentimiento"
    forms = {ar.ngettext(singular, plural, n) for n in (0, 1, 2, 3, 11, 100)}
    assert "حالتا موافقة" in forms  # the dual, for n == 2
    assert "%(counter)s حالات موافقة" in forms  # 3 to 10


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("es", ["Iniciar sesión en Constancia", "¿Ha olvidado su contraseña?"]),
        ("ar", ["تسجيل الدخول إلى Constancia", "هل نسيت كلمة المرور؟"]),
    ],
)
def test_the_login_page_renders_translated(client, lang, words):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<html lang="{lang}"' in page
    for word in words:
        assert word in page
    assert "Forgot your password?" not in page
