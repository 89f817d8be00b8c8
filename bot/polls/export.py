"""Results to take away: a bar chart (PNG, drawn with Pillow) and a spreadsheet (CSV)."""

from __future__ import annotations

import csv
import io
import logging
import textwrap
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.i18n import RTL_LOCALES, format_number, format_share
from bot.polls.service import Comment
from bot.polls.tally import Counts, Tally
from bot.polls.views import (
    Gettext,
    gender_name,
    hidden_text,
    option_labels,
    region_label,
)
from models.poll import BLOCK, Poll, PollKind

# Pillow is imported where a chart is drawn: the bot starts without it (start-up time, memory).
if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

    TypeFont = ImageFont.FreeTypeFont | ImageFont.ImageFont

# A font with Latin and Arabic glyphs is bundled (DejaVu Sans, licence beside it), so charts
# read the same on any system; the system copies are only a fallback.
BUNDLED_FONT = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"
FONT_CANDIDATES = (
    str(BUNDLED_FONT),
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
WIDTH = 900
BAR_HEIGHT = 34
ROW = 52
LABEL_WIDTH = 300
MARGIN = 30
PALETTE = ("#2E6DB4", "#3A9D5D", "#E0A030", "#8E5BB5", "#2BA3A8", "#C75B8E")
CONSENT_COLOURS = ("#3A9D5D", "#9AA3AD", "#E0A030", "#C0392B")
NO_GLYPH = "\U0010fffd"  # a private-use character no font draws: its box is the "no glyph" box
log = logging.getLogger(__name__)


def shaping_available() -> bool:
    """Whether Pillow lays text out with Raqm (HarfBuzz + FriBiDi): Arabic letters joined and
    right-to-left runs in order. Pillow's wheels include Raqm; FriBiDi is the system's."""
    from PIL import features

    return bool(features.check("raqm"))


@lru_cache(maxsize=8)
def chart_font(size: int) -> TypeFont:
    """The bundled font (Latin and Arabic), laid out with Raqm when the system allows."""
    from PIL import ImageFont

    layout = ImageFont.Layout.RAQM if shaping_available() else ImageFont.Layout.BASIC
    if layout == ImageFont.Layout.BASIC:
        log.warning("Pillow has no Raqm layout (libfribidi missing?): Arabic charts unjoined")
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size, layout_engine=layout)
    return ImageFont.load_default(size)


@lru_cache(maxsize=4096)
def _has_glyph(char: str, font: TypeFont) -> bool:
    """Whether the font draws this character, rather than the empty box of a missing one."""
    return char.isspace() or _mask(char, font) != _mask(NO_GLYPH, font)


def _mask(text: str, font: TypeFont) -> tuple[tuple[int, int, int, int] | None, bytes]:
    """A character's bitmap, to compare with the missing-glyph box."""
    mask = font.getmask(text)
    return mask.getbbox(), bytes(mask)


def drawable(text: str, font: TypeFont) -> str:
    """The text without the characters the font cannot draw (emoji), so no empty boxes."""
    kept = "".join(c for c in text if _has_glyph(c, font))
    return " ".join(kept.split())


def _ellipsize(draw: ImageDraw.ImageDraw, text: str, font: TypeFont, width: int) -> str:
    """Cut text to fit `width` pixels, with an ellipsis."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def chart_png(poll: Poll, counts: Counts, locale: str, _: Gettext) -> bytes:
    """A horizontal bar chart of the answers, labelled in the reader's language; mirrored for
    right-to-left languages (labels on the right, bars growing leftwards)."""
    from PIL import Image, ImageDraw

    rtl = locale in RTL_LOCALES
    title_font, text_font, small_font = chart_font(26), chart_font(20), chart_font(17)
    labels = [drawable(label, text_font) for label in option_labels(poll, locale, _)]
    question = drawable(poll.text(locale)[0], title_font)
    title_lines = textwrap.wrap(question, 60)[:3] or [""]
    top = 30 + 34 * len(title_lines) + 40
    height = top + ROW * len(labels) + 30
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)

    def x(left: float) -> float:
        """A distance from the reading edge: the left one, or the right one in RTL."""
        return WIDTH - left if rtl else left

    anchor = "ra" if rtl else "la"
    y = 24
    for line in title_lines:
        draw.text((x(MARGIN), y), line, fill="#1B1F24", font=title_font, anchor=anchor)
        y += 34
    subtitle = _("Answers: {count}").format(count=format_number(counts.voters, locale))
    if poll.kind == PollKind.MULTIPLE:
        subtitle += " · " + _("several answers possible")
    subtitle = drawable(subtitle, small_font)
    draw.text((x(MARGIN), y + 6), subtitle, fill="#57606A", font=small_font, anchor=anchor)
    bar_start, bar_end = MARGIN + LABEL_WIDTH, WIDTH - 170
    most = max(counts.options or [0]) or 1
    for i, label in enumerate(labels):
        n = counts.options[i] if i < len(counts.options) else 0
        row_top = top + i * ROW
        text = _ellipsize(draw, label, text_font, LABEL_WIDTH - 20)
        draw.text((x(MARGIN), row_top + 6), text, fill="#1B1F24", font=text_font, anchor=anchor)
        if poll.kind == PollKind.CONSENT:
            colour = CONSENT_COLOURS[i % len(CONSENT_COLOURS)]
        else:
            colour = PALETTE[i % len(PALETTE)]
        length = int((bar_end - bar_start) * n / most)
        ends = sorted((x(bar_start), x(bar_start + max(length, 2))))
        draw.rectangle((ends[0], row_top, ends[1], row_top + BAR_HEIGHT), fill=colour)
        share = n / counts.voters if counts.voters else 0.0
        figure = f"{format_number(n, locale)} ({format_share(share, locale)})"
        where = (x(bar_start + length + 10), row_top + 6)
        draw.text(
            where, drawable(figure, text_font), fill="#1B1F24", font=text_font, anchor=anchor
        )
    if poll.kind == PollKind.CONSENT and counts.options and counts.options[BLOCK]:
        draw.line((30, height - 14, WIDTH - 30, height - 14), fill=CONSENT_COLOURS[BLOCK], width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def safe_cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (members wrote it)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def results_csv(
    poll: Poll,
    result: Tally,
    locale: str,
    _: Gettext,
    reasons: Sequence[Comment] = (),
    comments: Sequence[Comment] = (),
) -> bytes:
    """Totals, breakdowns by region, gender and region × gender (small groups hidden),
    then the reasons and comments; UTF-8 with a BOM so spreadsheet programs read it right."""
    labels = [safe_cell(label) for label in option_labels(poll, locale, _)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Breakdown"), _("Region"), _("Gender"), _("Answers"), *labels])

    def row(section: str, region: str, gender: str, counts: Counts | None, small: bool) -> None:
        if counts is None:
            writer.writerow([section, region, gender, hidden_text(small, _)] + [""] * len(labels))
        else:
            writer.writerow([section, region, gender, counts.voters, *counts.options])

    row(_("Total"), "", "", result.total, False)
    for group in result.by_region:
        row(_("Region"), region_label(group.key, locale, _), "", group.counts, group.small)
    for group in result.by_gender:
        row(_("Gender"), "", gender_name(group.key, _), group.counts, group.small)
    for cell in result.cross:
        row(
            _("Region × gender"),
            region_label(cell.region, locale, _),
            gender_name(cell.gender, _),
            cell.counts,
            cell.small,
        )
    if reasons or comments:
        writer.writerow([])
        writer.writerow([_("Reasons and comments"), _("Author"), _("Text")])
    for reason in reasons:
        said = reason.text or _("(voice note)")
        author = safe_cell(reason.author or "")
        writer.writerow([_("Reason for blocking"), author, safe_cell(said)])
    for comment in comments:
        text = comment.text or _("(voice note)")
        writer.writerow([_("Comment"), safe_cell(comment.author or ""), safe_cell(text)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
