"""Every shipped catalogue is complete and keeps the placeholders and tags of its msgids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import LOCALES_DIR

PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")
TAG = re.compile(r"</?[a-z][a-z0-9-]*(?:\s[^>]*)?>")
TRANSLATED = [code for code in SUPPORTED_LOCALES if code != "en"]


def catalogue(locale: str):  # type: ignore[no-untyped-def]
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def template_ids() -> set[str]:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


@pytest.mark.parametrize("locale", TRANSLATED)
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
