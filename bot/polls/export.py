"""Results to take away: a bar chart (PNG, drawn with Pillow) and a spreadsheet (CSV)."""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.core.i18n import format_number, format_share
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

# Fonts with Latin and Arabic glyphs, looked for where Linux distributions install them.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/noto/NotoSans-Regular.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)
WIDTH = 900
BAR_HEIGHT = 34
ROW = 52
LABEL_WIDTH = 300
PALETTE = ("#2E6DB4", "#3A9D5D", "#E0A030", "#8E5BB5", "#2BA3A8", "#C75B8E")
CONSENT_COLOURS = ("#3A9D5D", "#9AA3AD", "#E0A030", "#C0392B")
TypeFont = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=8)
def chart_font(size: int) -> TypeFont:
    """A TrueType font that can write the network's languages, else Pillow's own."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size)


def _ellipsize(draw: ImageDraw.ImageDraw, text: str, font: TypeFont, width: int) -> str:
    """Cut text to fit `width` pixels, with an ellipsis."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def chart_png(poll: Poll, counts: Counts, locale: str, _: Gettext) -> bytes:
    """A horizontal bar chart of the answers, labelled in the reader's language."""
    labels = option_labels(poll, locale, _)
    question = poll.text(locale)[0]
    title_font, text_font, small_font = chart_font(26), chart_font(20), chart_font(17)
    title_lines = textwrap.wrap(question, 60)[:3] or [""]
    top = 30 + 34 * len(title_lines) + 40
    height = top + ROW * len(labels) + 30
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    y = 24
    for line in title_lines:
        draw.text((30, y), line, fill="#1B1F24", font=title_font)
        y += 34
    subtitle = _("Answers: {count}").format(count=format_number(counts.voters, locale))
    if poll.kind == PollKind.MULTIPLE:
        subtitle += " · " + _("several answers possible")
    draw.text((30, y + 6), subtitle, fill="#57606A", font=small_font)
    bar_left, bar_right = 30 + LABEL_WIDTH, WIDTH - 170
    most = max(counts.options or [0]) or 1
    for i, label in enumerate(labels):
        n = counts.options[i] if i < len(counts.options) else 0
        row_top = top + i * ROW
        text = _ellipsize(draw, label, text_font, LABEL_WIDTH - 20)
        draw.text((30, row_top + 6), text, fill="#1B1F24", font=text_font)
        if poll.kind == PollKind.CONSENT:
            colour = CONSENT_COLOURS[i % len(CONSENT_COLOURS)]
        else:
            colour = PALETTE[i % len(PALETTE)]
        length = int((bar_right - bar_left) * n / most)
        box = (bar_left, row_top, bar_left + max(length, 2), row_top + BAR_HEIGHT)
        draw.rectangle(box, fill=colour)
        share = n / counts.voters if counts.voters else 0.0
        figure = f"{format_number(n, locale)} ({format_share(share, locale)})"
        draw.text((bar_left + length + 10, row_top + 6), figure, fill="#1B1F24", font=text_font)
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
