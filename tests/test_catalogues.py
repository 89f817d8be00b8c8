"""The four first translations are complete; every catalogue, even a partly translated new one,
keeps the placeholders and tags of its msgids; a new language is one `.po` file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.config import SOURCE_LOCALE, SUPPORTED_LOCALES, shipped_locales
from bot.core.i18n import LOCALES_DIR, Translator, compile_catalogues, is_rtl, language_name

PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")
TAG = re.compile(r"</?[a-z][a-z0-9-]*(?:\s[^>]*)?>")
TRANSLATED = [code for code in SUPPORTED_LOCALES if code != SOURCE_LOCALE]
# These must stay complete; a language added later may ship partly translated (its missing
# strings show in English until translators fill them in).
COMPLETE = ["es", "fr", "pt", "ar"]


def catalogue(locale: str):  # type: ignore[no-untyped-def]
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def template_ids() -> set[str]:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def test_the_first_four_translations_are_shipped() -> None:
    assert set(COMPLETE) <= set(TRANSLATED)


@pytest.mark.parametrize("locale", COMPLETE)
def test_catalogue_is_complete(locale: str) -> None:
    cat = catalogue(locale)
    missing = [m.id for m in cat if m.id and not m.string]
    fuzzy = [m.id for m in cat if m.id and m.fuzzy]
    assert not missing, f"{locale}: untranslated {missing[:5]}"
    assert not fuzzy, f"{locale}: fuzzy {fuzzy[:5]}"
    absent = template_ids() - {m.id for m in cat if m.id}
    assert not absent, f"{locale}: not in catalogue {sorted(absent)[:5]}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_keep_placeholders_and_tags(locale: str) -> None:
    problems = []
    for message in catalogue(locale):
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple):  # plural forms: checked against the plural msgid
            source, forms = message.id[1], list(message.string)
            wanted = set(PLACEHOLDER.findall(source))
            # A language's own forms for one (or two) may spell the number out, so only the
            # last, general form must carry every placeholder; none may bring a new one.
            if set(PLACEHOLDER.findall(forms[-1])) != wanted or any(
                not set(PLACEHOLDER.findall(form)) <= wanted for form in forms
            ):
                problems.append(f"placeholders differ: {source!r}")
            if any(sorted(TAG.findall(source)) != sorted(TAG.findall(form)) for form in forms):
                problems.append(f"tags differ: {source!r}")
            continue
        source, target = message.id, message.string
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(target)):
            problems.append(f"placeholders differ: {source!r}")
        if sorted(TAG.findall(source)) != sorted(TAG.findall(target)):
            problems.append(f"tags differ: {source!r}")
    assert not problems, "\n".join(problems[:10])


def test_template_matches_source() -> None:
    """The .pot holds every string the code marks, so no new string escapes translation."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fresh.pot"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "extract",
                "-F",
                "babel.cfg",
                "-k",
                "_",
                "-k",
                "N_",
                "--no-location",
                "-o",
                str(out),
                ".",
            ],
            cwd=LOCALES_DIR.parent,
            check=True,
            capture_output=True,
        )
        with out.open("rb") as handle:
            fresh = {m.id for m in read_po(handle) if m.id}
    missing = fresh - template_ids()
    assert not missing, f"run `make locales`: {sorted(missing)[:5]}"


def test_arabic_reads_right_to_left() -> None:
    from bot.core.i18n import RLM, create_i18n

    i18n = create_i18n("en")
    text = i18n.gettext("Welcome! Please choose your language.", locale="ar")
    assert text.startswith(RLM)
    assert re.search("[\u0600-\u06ff]", text)
    assert not i18n.gettext("Welcome! Please choose your language.", locale="es").startswith(RLM)


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_catalogue_follows_the_template(locale: str) -> None:
    """Even a partly translated catalogue has every msgid, so translators see what is left."""
    absent = template_ids() - {m.id for m in catalogue(locale) if m.id}
    assert not absent, f"{locale}: run `make locales`: {sorted(absent)[:5]}"


PARTIAL_PO = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: sw\\n"

msgid "Welcome! Please choose your language."
msgstr "Karibu! Tafadhali chagua lugha yako."

msgid "Thank you, {name}."
msgstr ""
"""


def test_a_new_language_is_one_partly_translated_po_file(tmp_path: Path) -> None:
    for code in ("es", "sw"):
        folder = tmp_path / code / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "messages.po").write_text(PARTIAL_PO.replace("sw", code), encoding="utf-8")
    (tmp_path / "xx-not-a-language" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "xx-not-a-language" / "LC_MESSAGES" / "messages.po").write_text(PARTIAL_PO)
    assert shipped_locales(tmp_path) == ("en", "es", "sw")
    assert len(compile_catalogues(tmp_path)) == 2  # not the folder that is no language
    shutil.rmtree(tmp_path / "xx-not-a-language")
    i18n = Translator(path=tmp_path, default_locale="en", domain="messages")
    welcome = "Welcome! Please choose your language."
    assert i18n.gettext(welcome, locale="sw") == "Karibu! Tafadhali chagua lugha yako."
    # an untranslated string falls back to English
    assert i18n.gettext("Thank you, {name}.", locale="sw") == "Thank you, {name}."
    # its name and direction come from CLDR
    assert language_name("sw") == "Kiswahili" and not is_rtl("sw")
    assert language_name("fa") == "فارسی" and is_rtl("fa")


def test_shipped_languages_have_their_own_names_and_direction() -> None:
    from bot.core.i18n import LANGUAGE_NAMES, RTL_LOCALES

    shipped = {
        "en": "English",
        "es": "Español",
        "fr": "Français",
        "pt": "Português",
        "ar": "العربية",
    }
    assert shipped.items() <= LANGUAGE_NAMES.items()
    assert set(LANGUAGE_NAMES) == set(SUPPORTED_LOCALES)
    assert SUPPORTED_LOCALES[:1] == ("en",) and SUPPORTED_LOCALES[-1] == "ar"
    assert "ar" in RTL_LOCALES and all(is_rtl(code) for code in RTL_LOCALES)


def test_template_keeps_references_and_translator_comments() -> None:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        template = list(read_po(handle))
    assert all(m.locations for m in template if m.id), "source references (file:line)"
    noted = [m for m in template if any(c.startswith("TRANSLATORS:") for c in m.auto_comments)]
    assert len(noted) >= 5, "strings that need context carry a note for translators"
