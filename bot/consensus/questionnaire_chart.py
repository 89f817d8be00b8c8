"""A questionnaire's results as one picture for the coordinator: a bar chart per choice or
scale question, one under the other (text questions are in the report only). Drawn with the
polls' font and colours; Pillow is imported only when a chart is drawn."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence

from bot.consensus.questionnaire_views import labels
from bot.core.i18n import RTL_LOCALES, format_number, format_share
from bot.polls.tally import Tally
from models.consensus import Questionnaire

Gettext = Callable[..., str]
WIDTH, ROW, BAR, MARGIN, LABEL = 900, 40, 28, 30, 280


def chart_png(
    questionnaire: Questionnaire,
    tallies: Sequence[Tally | None],
    respondents: int,
    locale: str,
    _: Gettext,
) -> bytes | None:
    """One PNG with a section per counted question; None when no question is counted."""
    from PIL import Image, ImageDraw

    from bot.polls.export import PALETTE, _ellipsize, chart_font, drawable

    counted = [
        (i, q, t)
        for i, (q, t) in enumerate(zip(questionnaire.questions, tallies, strict=False))
        if t is not None
    ]
    if not counted:
        return None
    rtl = locale in RTL_LOCALES
    title_font, head_font, text_font = chart_font(26), chart_font(21), chart_font(18)
    title = textwrap.wrap(drawable(questionnaire.title, title_font), 60)[:2] or [""]
    heads = {
        i: textwrap.wrap(drawable(f"{i + 1}. {q['text']}", head_font), 70)[:2] or [""]
        for i, q, _t in counted
    }
    height = MARGIN + 34 * len(title) + 40
    for i, question, _t in counted:
        height += 30 * len(heads[i]) + ROW * len(labels(question)) + 24
    image = Image.new("RGB", (WIDTH, height + MARGIN), "white")
    draw = ImageDraw.Draw(image)
    anchor = "ra" if rtl else "la"

    def x(left: float) -> float:
        return WIDTH - left if rtl else left

    y = MARGIN
    for line in title:
        draw.text((x(MARGIN), y), line, fill="#1B1F24", font=title_font, anchor=anchor)
        y += 34
    subtitle = drawable(
        _("Respondents: {count}").format(count=format_number(respondents, locale)), text_font
    )
    draw.text((x(MARGIN), y), subtitle, fill="#57606A", font=text_font, anchor=anchor)
    y += 40
    bar_start, bar_end = MARGIN + LABEL, WIDTH - 160
    for i, question, tally in counted:
        for line in heads[i]:
            draw.text((x(MARGIN), y), line, fill="#1B1F24", font=head_font, anchor=anchor)
            y += 30
        counts = tally.total
        most = max(counts.options or [0]) or 1
        for n_option, name in enumerate(labels(question)):
            n = counts.options[n_option] if n_option < len(counts.options) else 0
            label = _ellipsize(draw, drawable(name, text_font), text_font, LABEL - 20)
            draw.text((x(MARGIN), y + 4), label, fill="#1B1F24", font=text_font, anchor=anchor)
            length = int((bar_end - bar_start) * n / most)
            ends = sorted((x(bar_start), x(bar_start + max(length, 2))))
            draw.rectangle((ends[0], y, ends[1], y + BAR), fill=PALETTE[n_option % len(PALETTE)])
            share = n / counts.voters if counts.voters else 0.0
            figure = f"{format_number(n, locale)} ({format_share(share, locale)})"
            where = (x(bar_start + length + 10), y + 4)
            draw.text(where, figure, fill="#1B1F24", font=text_font, anchor=anchor)
            y += ROW
        y += 24
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
