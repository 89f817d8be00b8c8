"""The results chart reads in every language: a bundled font with Latin and Arabic, Arabic
letters joined and laid out right to left, and no emoji drawn as empty boxes."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import create_i18n
from bot.polls.export import (
    BUNDLED_FONT,
    NO_GLYPH,
    WIDTH,
    chart_font,
    chart_png,
    drawable,
    shaping_available,
)
from models.poll import PollKind
from tests.test_poll_logic import build_tally, make

BAR_GREEN = (0x3A, 0x9D, 0x5D)


def gettext(locale: str) -> Callable[[str], str]:
    i18n = create_i18n("en")
    return lambda message: i18n.gettext(message, locale=locale)


def ink(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> Image.Image:
    """What a line of text looks like in a font."""
    image = Image.new("L", (500, 80), 0)
    ImageDraw.Draw(image).text((10, 10), text, font=font, fill=255)
    return image


def test_the_font_is_bundled_and_covers_latin_and_arabic() -> None:
    assert BUNDLED_FONT.is_file() and (BUNDLED_FONT.parent / "LICENSE").is_file()
    font = chart_font(20)
    assert isinstance(font, ImageFont.FreeTypeFont) and font.path == str(BUNDLED_FONT)
    for text in ("Brésil São Tomé ¿Ñandú?", "الأراضي الفلسطينية", "١٢٣ ٪"):
        assert drawable(text, font) == text, text


def test_arabic_is_joined_and_right_to_left() -> None:
    assert shaping_available(), "Pillow needs Raqm (libfribidi): see README, Consultations"
    shaped = ink("سلام", chart_font(40))
    # the same word as joined letter forms (initial seen, final lam-alef, isolated meem) in the
    # order the eye reads them, drawn without any layout engine
    by_hand = ink(
        "\ufee1\ufefc\ufeb3",
        ImageFont.truetype(str(BUNDLED_FONT), 40, layout_engine=ImageFont.Layout.BASIC),
    )
    assert ImageChops.difference(shaped, by_hand).getbbox() is None


def test_emoji_the_font_lacks_are_left_out_not_drawn_as_boxes() -> None:
    font = chart_font(20)
    assert drawable("✅ Agree", font) == "Agree"
    assert drawable("🌱 Semillas 🚫 ✋🏽 sí", font) == "Semillas sí"
    assert drawable(NO_GLYPH, font) == ""


def chart(locale: str, kind: str = PollKind.CONSENT, question: str = "") -> Image.Image:
    result = build_tally(4, [(0b0001, "419", "woman", 12), (0b1000, "202", "man", 1)])
    poll = make(locale=locale, question=question or "🌱 Plan 2027?", kind=kind)
    poll.id = 3
    data = chart_png(poll, result.total, locale, gettext(locale))
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.width == WIDTH
    return image.convert("RGB")


def green_columns(image: Image.Image) -> list[int]:
    """The x of every pixel of the first (green) bar."""
    pixels = image.load()
    assert pixels is not None
    return [
        x for x in range(image.width) for y in range(image.height) if pixels[x, y] == BAR_GREEN
    ]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_chart_in_every_language(locale: str) -> None:
    image = chart(locale)
    assert green_columns(image), "the first answer's bar is drawn"


def test_arabic_chart_is_mirrored() -> None:
    left_to_right, right_to_left = green_columns(chart("es")), green_columns(chart("ar"))
    assert min(left_to_right) > WIDTH / 3, "Spanish: labels on the left, bars to the right"
    assert max(right_to_left) < WIDTH * 2 / 3, "Arabic: labels on the right, bars to the left"
