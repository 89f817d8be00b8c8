"""How a priorities consultation looks: the tapping screen, the ranking, the coordinator's
report with breakdowns, the chart (PNG) and the spreadsheet (CSV)."""

from __future__ import annotations

import csv
import html
import io
import textwrap
from collections.abc import Callable, Sequence
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.consensus.priorities import RankResult, needed, ranking
from bot.core.i18n import format_number, format_when
from bot.polls.tally import Counts, Group, Tally
from bot.polls.views import fit, gender_name, hidden_text, region_label
from models.consensus import Priorities, PriorityMode
from models.poll import Poll, PollKind, PollOption

Gettext = Callable[..., str]
Id = Annotated[int, Field(ge=0, lt=2**31)]
Picks = Annotated[str, Field(max_length=14)]


class RankPickCb(CallbackData, prefix="yp"):
    """A tap on an option: `picks` holds every pick so far, this one included."""

    c: Id
    picks: Picks


class RankSubmitCb(CallbackData, prefix="ys"):
    """Send the picks."""

    c: Id
    picks: Picks


def ordinal(n: int, _: Gettext) -> str:
    names = [_("1st"), _("2nd"), _("3rd")]
    return names[n] if n < len(names) else str(n + 1)


def method_text(consultation: Priorities, _: Gettext) -> str:
    """The counting method, said plainly."""
    if consultation.mode == PriorityMode.RANK:
        return _("Borda count: 3 points for a first choice, 2 for a second, 1 for a third.")
    return _("Point totals: each member spread 5 points.")


def picks_text(
    consultation: Priorities, picks: Sequence[int], _: Gettext, locale: str = ""
) -> str:
    """What the member picked so far (in their language where there is a version)."""
    labels = consultation.text(locale)[1]
    if consultation.mode == PriorityMode.RANK:
        parts = [f"{ordinal(i, _)}: {html.escape(labels[p])}" for i, p in enumerate(picks)]
    else:
        parts = [f"{html.escape(labels[p])} × {picks.count(p)}" for p in sorted(set(picks))]
    return " · ".join(parts)


def member_text(
    consultation: Priorities,
    audience: str,
    picks: Sequence[int],
    locale: str,
    zone: str,
    _: Gettext,
    note: str = "",
) -> str:
    """The consultation as a member sees it while tapping, in their language where the
    coordinator gave a version."""
    title, options = consultation.text(locale)
    lines = [
        _("🎯 <b>Priorities</b> · {audience}").format(audience=html.escape(audience)),
        "",
        f"<b>{html.escape(title)}</b>",
        "",
        *(f"{i}. {html.escape(label)}" for i, label in enumerate(options, 1)),
        "",
    ]
    if consultation.mode == PriorityMode.RANK:
        lines.append(_("Tap your top 3 in order: first choice first."))
    else:
        lines.append(_("Spread 5 points: each tap gives one point (tap twice for two)."))
    if consultation.anonymous:
        lines.append(
            _("🔒 Secret: no one can see how you ranked. It cannot be changed once sent.")
        )
    else:
        lines.append(
            _("👤 Named: the coordinators see how you ranked. It cannot be changed once sent.")
        )
    lines.append(
        _("Closes: {when}").format(when=format_when(consultation.closes_at, zone, locale))
    )
    if picks:
        chosen = picks_text(consultation, picks, _, locale)
        lines += ["", _("Your choice: {picks}").format(picks=chosen)]
    if note:
        lines += ["", note]
    return fit(lines, _("(shortened)"))


def member_keyboard(
    consultation: Priorities, picks: Sequence[int], _: Gettext, locale: str = ""
) -> InlineKeyboardMarkup:
    """An option button per remaining choice; Submit and Start again once complete."""
    options = consultation.text(locale)[1]
    kb = InlineKeyboardBuilder()
    done = len(picks) >= needed(consultation)
    base = ".".join(str(p) for p in picks)
    if not done:
        for i, label in enumerate(options):
            if consultation.mode == PriorityMode.RANK and i in picks:
                continue
            picks_after = f"{base}.{i}" if base else str(i)
            kb.button(
                text=f"{i + 1}. {label}"[:60],
                callback_data=RankPickCb(c=consultation.id, picks=picks_after),
            )
    else:
        kb.button(text=_("📨 Submit"), callback_data=RankSubmitCb(c=consultation.id, picks=base))
    if picks:
        kb.button(text=_("↺ Start again"), callback_data=RankPickCb(c=consultation.id, picks=""))
    kb.adjust(1)
    return kb.as_markup()


def refusal(result: RankResult, _: Gettext) -> str:
    texts = {
        RankResult.CLOSED: _("This consultation is closed: answers are no longer accepted."),
        RankResult.NOT_FOR_YOU: _("This consultation is not meant for you."),
        RankResult.ALREADY: _(
            "You have already answered this secret ballot. It cannot be changed."
        ),
        RankResult.INVALID: _("That answer is not one of the options."),
        RankResult.TWICE: _("Each option can be ranked only once."),
        RankResult.INCOMPLETE: _("Your ranking is not complete yet."),
    }
    return texts.get(result, _("This button is no longer valid."))


def ranking_lines(consultation: Priorities, total: Counts, locale: str, _: Gettext) -> list[str]:
    ngettext = _  # the catalogue's plural forms: "1 point", "2 points", Arabic's six forms
    options = consultation.text(locale)[1]
    lines = []
    for place, (option, points) in enumerate(ranking(consultation, total), start=1):
        lines.append(
            ngettext(
                "{place}. {option}: <b>{points}</b> point",
                "{place}. {option}: <b>{points}</b> points",
                points,
            ).format(
                place=place,
                option=html.escape(options[option]),
                points=format_number(points, locale),
            )
        )
    return lines


def results_text(consultation: Priorities, result: Tally, locale: str, _: Gettext) -> str:
    """The ranking every participant gets."""
    lines = [
        _("🎯 <b>Priorities: results</b>"),
        f"<b>{html.escape(consultation.text(locale)[0])}</b>",
        _("Answers: {count}").format(count=format_number(result.total.voters, locale)),
        "",
        *ranking_lines(consultation, result.total, locale, _),
        "",
        method_text(consultation, _),
    ]
    return fit(lines, _("(shortened)"))


def compact(consultation: Priorities, counts: Counts, locale: str) -> str:
    return " · ".join(f"{i + 1}. {format_number(n, locale)}" for i, n in enumerate(counts.options))


def breakdown(
    title: str,
    groups: Sequence[Group],
    name: Callable[[str | None], str],
    consultation: Priorities,
    locale: str,
    _: Gettext,
) -> list[str]:
    lines = ["", title]
    for group in groups:
        if group.counts is None:
            lines.append(f"{html.escape(name(group.key))}: {hidden_text(group.small, _)}")
        else:
            lines.append(
                f"{html.escape(name(group.key))} ({format_number(group.counts.voters, locale)}): "
                + compact(consultation, group.counts, locale)
            )
    return lines


def named_lines(
    consultation: Priorities,
    people: Sequence[tuple[str, Sequence[int]]],
    locale: str,
    _: Gettext,
) -> list[str]:
    """A named consultation: who ranked what."""
    if consultation.anonymous:
        return []
    lines = ["", _("<b>Who ranked what</b>")]
    lines += [
        f"{html.escape(name)}: {picks_text(consultation, picks, _, locale)}"
        for name, picks in people
    ]
    return lines


def report_text(
    consultation: Priorities,
    result: Tally,
    locale: str,
    _: Gettext,
    people: Sequence[tuple[str, Sequence[int]]] = (),
) -> str:
    """The coordinator's report: the ranking, then points by region and by gender, and on a
    named consultation who ranked what."""
    lines = [results_text(consultation, result, locale, _)]
    lines += breakdown(
        _("<b>By region</b>"),
        result.by_region,
        lambda k: region_label(k, locale, _),
        consultation,
        locale,
        _,
    )
    lines += breakdown(
        _("<b>By gender</b>"),
        result.by_gender,
        lambda k: gender_name(k, _),
        consultation,
        locale,
        _,
    )
    lines += named_lines(consultation, people, locale, _)
    return fit(lines, _("(shortened)"))


def as_poll(consultation: Priorities, locale: str = "") -> Poll:
    """A stand-in poll so the polls' spreadsheet writes the same breakdowns."""
    title, options = consultation.text(locale)
    return Poll(
        id=consultation.id,
        question=title,
        kind=PollKind.SINGLE,
        anonymous=True,
        options=[PollOption(position=i, label=text) for i, text in enumerate(options)],
        translations=[],
        groups=[],
    )


def csv_bytes(
    consultation: Priorities,
    result: Tally,
    locale: str,
    _: Gettext,
    people: Sequence[tuple[str, Sequence[int]]] = (),
) -> bytes:
    """Points per option for the total and each protected breakdown (UTF-8 with BOM); a
    named consultation adds a row per member with their picks in order."""
    from bot.polls.export import results_csv  # with the chart code: only when a report is made

    data = results_csv(as_poll(consultation, locale), result, locale, _)
    if consultation.anonymous:
        return data
    options = consultation.text(locale)[1]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([])
    if consultation.mode == PriorityMode.RANK:
        writer.writerow([_("Member"), *(ordinal(i, _) for i in range(consultation.picks))])
        for name, picks in people:
            writer.writerow([name, *(options[p] for p in picks)])
    else:
        writer.writerow([_("Member"), *options])
        for name, picks in people:
            writer.writerow([name, *(picks.count(i) for i in range(len(options)))])
    return data + out.getvalue().encode("utf-8")


def chart(consultation: Priorities, total: Counts, locale: str, _: Gettext) -> bytes:
    """A bar chart of the ranking, most points on top (Pillow imported only now)."""
    from PIL import Image, ImageDraw

    from bot.polls.export import PALETTE, chart_font

    order = ranking(consultation, total)
    title, options = consultation.text(locale)
    title_font, text_font = chart_font(26), chart_font(20)
    title_lines = textwrap.wrap(title, 60)[:3] or [""]
    top = 30 + 34 * len(title_lines) + 30
    width, row = 900, 52
    image = Image.new("RGB", (width, top + row * len(order) + 30), "white")
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(title_lines):
        draw.text((30, 24 + 34 * n), line, fill="#1B1F24", font=title_font)
    most = max([points for _i, points in order] or [0]) or 1
    left, right = 330, width - 150
    for place, (option, points) in enumerate(order):
        y = top + place * row
        draw.text((30, y + 6), options[option][:28], fill="#1B1F24", font=text_font)
        length = int((right - left) * points / most)
        draw.rectangle(
            (left, y, left + max(length, 2), y + 34), fill=PALETTE[place % len(PALETTE)]
        )
        draw.text(
            (left + length + 10, y + 6),
            format_number(points, locale),
            fill="#1B1F24",
            font=text_font,
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
