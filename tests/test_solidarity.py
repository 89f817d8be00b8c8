"""System of Solidarity end to end: a member raises a case, the secretariat reviews and issues
it, members receive it in their language (protected), respond and sign; escalation, updates,
the sign-on list, /forget, and every forbidden action refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.core.clock import FakeClock
from bot.sandbox.telegram import FakeTelegram
from bot.solidarity.callbacks import AlertCb, CaseCb, SolidarityCb
from bot.solidarity.service import toggle_audience
from models.member import Member
from models.solidarity import (
    CaseEvent,
    CaseSignature,
    CaseStatus,
    SolidarityCase,
    audience_ids,
)
from tests.botclient import BotClient
from tests.conftest import add_member
from tests.groupkit import add_to_group, make_group
from tests.harness import RunningBot
from tests.meeting_helpers import eventually, settle, wake_scheduler


def alerts(user: BotClient) -> list[dict[str, Any]]:
    return [
        m
        for m in user.messages()
        if "🆘" in str(m.get("text", "")) and "#" in str(m.get("text", ""))
    ]


async def raise_eviction(reporter: BotClient) -> None:
    """The Spanish reporter raises an eviction case, by taps and typed answers."""
    await reporter.send("/solidarity")
    await reporter.click("➕")
    await reporter.send("La comunidad de El Pinar enfrenta un desalojo forzoso mañana.")
    await reporter.click("➡️")
    await reporter.send("Colombia")
    await reporter.click("Colombia")
    await reporter.click_nth(2)  # a community
    await reporter.send("Comunidad El Pinar")
    await reporter.click("🔴")
    await reporter.click_nth(0)  # sign a joint statement
    await reporter.click_nth(1)  # contact authorities
    await reporter.click("➡️")
    await reporter.click_nth(1)  # show the affected name
    await reporter.click("➡️")


async def case_row(bot: RunningBot) -> SolidarityCase:
    return await bot.db(lambda s: s.scalar(select(SolidarityCase)))


async def test_a_case_from_raising_to_signatures_escalation_and_forget(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    await add_member(bot, 7000, "Admin Ann", locale="en", country="GB", role="admin")
    await add_member(bot, 7001, "Rosa", locale="es", country="UY")
    readers = {7002: ("es", "AR"), 7003: ("ar", "EG"), 7004: ("en", "MA")}
    rows = {}
    for uid, (locale, country) in readers.items():
        fake.add_user(uid, f"Reader {uid}", language_code=locale)
        rows[uid] = await add_member(bot, uid, f"Reader {uid}", locale=locale, country=country)
    fake.add_user(7005, "Outside", language_code="en")
    await add_member(bot, 7005, "Outside", locale="en", country="KE")
    fake.add_user(7006, "Coord", language_code="es")
    coordinator = await add_member(bot, 7006, "Coord", locale="es", country="CO")
    group = await make_group(bot)
    await add_to_group(bot, group, coordinator, coordinator=True)
    await add_to_group(bot, group, rows[7002])
    admin = client(7000, "Admin Ann")
    reporter = client(7001, "Rosa", language_code="es")
    member_es, member_ar, member_en = (
        client(uid, f"Reader {uid}", language_code=loc) for uid, (loc, _) in readers.items()
    )

    # 1. Raise a case: Back keeps answers, the preview shows everything, nothing goes out.
    await raise_eviction(reporter)
    preview = reporter.last()["text"]
    assert "El Pinar" in preview and "Colombia" in preview
    await reporter.click("⬅️")  # back to sharing
    await reporter.click("➡️")
    await reporter.click("✅")
    assert "#1" in reporter.last()["text"]
    await eventually(lambda: any("El Pinar" in t for t in admin.texts()))
    review = [m for m in admin.messages() if "El Pinar" in str(m.get("text", ""))][-1]
    assert "Rosa" in review["text"], "admins see who reported"
    assert not any(fake.messages(uid) for uid in readers), "nothing to members before issue"

    # 2. Review: an English version, a statement, an audience of two regions; issue.
    await admin.click("🌐", review)
    await admin.click("English")
    await admin.send("The El Pinar community faces a forced eviction tomorrow.")
    await admin.click("📄")
    await admin.send("We, the undersigned organisations, call for the eviction to stop.")
    await admin.click("🎯")
    await admin.click("Latin America")
    await admin.click("Northern Africa")
    await admin.click("✅ Done")
    panel = admin.last()["text"]
    assert "Latin America, Northern Africa" in panel and "undersigned" in panel
    await admin.click("🚨")
    await eventually(lambda: all(alerts(u) for u in (member_es, member_ar, member_en, reporter)))
    await settle(fake)
    alert_es, alert_ar, alert_en = (alerts(u)[-1] for u in (member_es, member_ar, member_en))
    assert "desalojo forzoso" in alert_es["text"]
    assert "forced eviction" in alert_en["text"]
    assert "forced eviction" in alert_ar["text"] and "Comunidad El Pinar" in alert_ar["text"]
    assert "الإنجليزية" in alert_ar["text"], "the fallback to English is marked"
    assert all(a.get("has_protected_content") for a in (alert_es, alert_ar, alert_en))
    assert "Rosa" not in alert_en["text"], "the reporter chose not to be named"
    assert not fake.messages(7005), "outside the audience"
    assert "undersigned" in alert_en["text"], "a short statement comes with the alert"

    # 3. Responses: seen, act, sign (twice for the same organisation counts once).
    await member_es.click_nth(0, alert_es)  # Seen
    await member_ar.click_nth(1, alert_ar)  # I can act
    await member_ar.click_nth(1)  # contact authorities
    await member_ar.click_nth(2, alert_ar)  # Sign on
    await member_ar.send("Nadeem Centre")
    await member_ar.click_nth(0)  # confirm
    await member_es.click_nth(2, alert_es)
    await member_es.send("Colectivo Tierra")
    await member_es.click_nth(0)
    await member_es.click_nth(2, alert_es)
    await member_es.send("colectivo  tierra")
    await member_es.click_nth(0)
    signatures = await bot.db(lambda s: s.scalar(select(func.count()).select_from(CaseSignature)))
    assert signatures == 2

    # Escalation: after 6 hours fewer than half saw it; the others get it again, once.
    clock.advance(timedelta(hours=6, minutes=1))
    wake_scheduler(bot)
    await eventually(lambda: any("⚠️" in t for t in client(7006, "Coord").texts()))
    await settle(fake)
    assert len(alerts(member_es)) == 1, "who pressed Seen is not reminded"
    assert len(alerts(member_ar)) == 1, "who said they can act has seen it"
    assert len(alerts(member_en)) == 2
    assert "⏰" in alerts(member_en)[-1]["text"]
    clock.advance(timedelta(hours=12))
    wake_scheduler(bot)
    await settle(fake)
    assert len(alerts(member_en)) == 2, "reminded at most once per alert"

    # Counts, the sign-on list, an update to responders, closing.
    await admin.send("/solidarity")
    await admin.click("🗂")
    await admin.click("📊")
    counts = admin.last()["text"]
    assert "Latin America: seen 1 · signed 1" in counts
    assert "Northern Africa: seen 1 · signed 1\nContact authorities or embassies 1" in counts
    assert "Women and ESCR: seen 1 · acting 0 · signed 1" in counts
    await admin.click("📥")
    block = admin.last()["text"]
    assert "Argentina: Colectivo Tierra" in block and "Egypt: Nadeem Centre" in block
    assert "Signed by 2 organisations." in block
    assert "Latin America: 1" in block and "Northern Africa: 1" in block
    assert any(
        m.get("document", {}).get("file_name") == "signatures-1.csv" for m in admin.messages()
    )
    await admin.click("📢")
    await admin.send("The eviction was postponed.")
    await admin.click("Español")
    await admin.send("El desalojo fue aplazado.")
    await admin.click("🙋")
    await eventually(lambda: any("postponed" in t for t in member_ar.texts()))
    await eventually(lambda: any("aplazado" in t for t in member_es.texts()))
    await settle(fake)
    assert not any("postponed" in t for t in member_en.texts()), "the update went to responders"
    assert "الإنجليزية" in member_ar.texts()[-1], "the English version is marked for Arabic"

    # Forbidden: a plain member forging admin buttons is refused; nothing changes.
    forged = [
        CaseCb(action=action, case_id=1, value="released").pack()
        for action in ("issue", "close", "outcome", "list", "counts", "update", "send", "edit")
    ]
    forged += [CaseCb(action=a, case_id=1).pack() for a in ("esc_h", "sens", "aud", "decline")]
    forged += [SolidarityCb(action="open", case_id=1).pack()]
    for data in forged:
        await member_es.press_data(data, alert_es)
        answer = member_es.callback_answer() or {}
        assert (
            answer.get("text") == "Solo las personas administradoras de la red pueden hacer esto."
        )
    await member_en.press_data(AlertCb(action="seen", case_id=2**31 - 1).pack(), alert_en)
    await member_en.press_data("sa:seen:99999999999999999999:", alert_en)
    await admin.send("/solidarity")
    await admin.click("🗂")
    record = admin.last()["text"]
    assert "Admin Ann: issued the alert (5 · 419 015 · 6 h / 50%, delete 0 h)" in record
    assert "Admin Ann: downloaded the sign-on list" in record
    assert "—: escalated (2/5)" in record
    case = await case_row(bot)
    assert case.status == CaseStatus.ISSUED and case.escalate_hours == 6
    downloads = await bot.db(
        lambda s: s.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.action == "downloaded")
        )
    )
    assert downloads == 1

    # /help names /solidarity; /solidarity shows the member's open alerts and what they did.
    await member_es.send("/help")
    assert "/solidarity: alertas urgentes" in member_es.last()["text"]
    await member_es.send("/solidarity")
    assert "visto, firmado por Colectivo Tierra" in member_es.last()["text"]

    # /mydata lists reports, responses and signatures.
    reply = await member_es.send("/mydata")
    document = next(m for m in reply if "document" in m)
    data = json.loads(fake.files[document["document"]["file_id"]].data)
    assert [s["organisation"] for s in data["solidarity_signatures"]] == ["Colectivo Tierra"]
    assert data["solidarity_responses"][0]["seen_at"]
    reply = await reporter.send("/mydata")
    document = next(m for m in reply if "document" in m)
    data = json.loads(fake.files[document["document"]["file_id"]].data)
    assert "desalojo" in data["solidarity_reports"][0]["text"]

    # /forget: the case stays, anonymised; the member's signatures go.
    await reporter.send("/forget")
    await reporter.click_nth(0)
    await member_es.send("/forget")
    await member_es.click_nth(0)
    case = await case_row(bot)
    assert case.reporter_id is None and case.status == CaseStatus.ISSUED
    gone = await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == 7001)))
    assert gone is None
    signatures = await bot.db(lambda s: s.scalar(select(func.count()).select_from(CaseSignature)))
    assert signatures == 1


async def test_cancel_question_decline_and_a_sensitive_alert_deleted_and_closed(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    await add_member(bot, 7100, "Admin Ann", locale="en", country="GB", role="admin")
    await add_member(bot, 7101, "Pierre", locale="fr", country="SN")
    fake.add_user(7102, "Reader", language_code="pt")
    await add_member(bot, 7102, "Reader", locale="pt", country="BR", organisation="Terra Viva")
    admin = client(7100, "Admin Ann")
    reporter = client(7101, "Pierre", language_code="fr")
    reader = client(7102, "Reader", language_code="pt")

    # Cancel drops the draft; a voice note alone is a description.
    await reporter.send("/solidarity")
    await reporter.click("➕")
    await reporter.send("Un défenseur a été arrêté.")
    await reporter.click("✖️")
    assert "Annulé" in reporter.last()["text"]
    assert await case_count(bot) == 0
    await reporter.send("/raisecase")
    await reporter.send(voice=True)
    assert "note vocale reçue" in reporter.last()["text"]
    await reporter.click("➡️")
    await reporter.send("Sénégal")
    await reporter.click("Sénégal")
    await reporter.click_nth(0)  # a defender
    await reporter.click("⬅️")  # back to who is affected
    await reporter.click_nth(0)
    await reporter.send("Moussa Diop")
    await reporter.click("🟠")
    await reporter.send("du texte")  # a button is expected
    assert "Annuler" in reporter.texts()[-2]
    await reporter.click_nth(3)  # send a solidarity message
    await reporter.click("➡️")
    await reporter.click("➡️")  # names stay with the admins
    await reporter.click("✅")
    await eventually(lambda: any("Moussa Diop" in t for t in admin.texts()))

    # A voice note alone cannot be issued: the admins write the alert's text first.
    await admin.click("🚨")
    assert "Edit text" in (admin.callback_answer() or {}).get("text", "")

    # The secretariat asks a question; the reporter answers; then it is declined.
    await admin.click("❓")
    await admin.send("Where is he held?")
    await eventually(lambda: any("Where is he held?" in t for t in reporter.texts()))
    await settle(fake)
    await reporter.click("✍️")
    await reporter.send("Au commissariat central.")
    await eventually(lambda: any("commissariat central" in t for t in admin.texts()))
    await settle(fake)
    answered = [t for t in admin.texts() if "commissariat central" in t][-1]
    assert "answered" in answered and "Record" not in answered
    await admin.click("✖️ Decline")
    await admin.send("Please contact the regional group first.")
    record = admin.last()["text"]
    assert "Pierre: answered the question (Au commissariat central.)" in record
    assert "Admin Ann: declined (Please contact the regional group first.)" in record
    await eventually(lambda: any("regional group first" in t for t in reporter.texts()))
    case = await case_row(bot)
    assert case.status == CaseStatus.DECLINED

    # A second case, sensitive: deleted from members' chats after the chosen time.
    await reporter.send("/raisecase")
    await reporter.send("Une communauté menacée d'expulsion.")
    await reporter.click("➡️")
    await reporter.send("Sénégal")
    await reporter.click("Sénégal")
    await reporter.click_nth(2)
    await reporter.click_nth(0)  # skip the name
    await reporter.click("🔴")
    await reporter.click_nth(0)
    await reporter.click("➡️")
    await reporter.click("➡️")
    await reporter.click("✅")
    await eventually(lambda: any("#2" in t and "🆘" in t for t in admin.texts()))
    await settle(fake)
    await admin.click("🔓")
    await admin.click("🔒")  # 6 h -> 24 h
    await admin.click("📄")
    await admin.send(document=b"%PDF-1.4 statement", file_name="statement.pdf")
    assert "statement.pdf" in admin.last()["text"]
    await admin.click("🚨")
    await eventually(lambda: bool(alerts(reader)))
    await eventually(lambda: any("document" in m for m in reader.messages()))
    await settle(fake)
    document = next(m for m in reader.messages() if "document" in m)
    assert document["document"]["file_name"] == "statement.pdf"
    assert document.get("has_protected_content")
    alert = alerts(reader)[-1]
    assert "24 horas" in alert["text"]
    await reader.click("✍️", alert)
    assert "<b>Terra Viva</b> (Brasil)" in reader.last()["_html"], "confirm before it counts"
    await reader.click("🌍")
    await reader.send("Argentina")
    await reader.click("Argentina")
    assert "<b>Terra Viva</b> (Argentina)" in reader.last()["_html"]
    await reader.click("✅")  # the profile's organisation, in the country chosen
    assert "Terra Viva" in reader.last()["text"]
    signature = await bot.db(lambda s: s.scalar(select(CaseSignature)))
    assert (signature.country, signature.region) == ("AR", "419")
    await reader.click("↩️")
    assert await bot.db(lambda s: s.scalar(select(func.count()).select_from(CaseSignature))) == 0

    await admin.send("/solidarity")
    await admin.click("🗂")
    await admin.click("📢")
    await admin.send("The hearing is on Monday.")
    await admin.click("🙋")
    await eventually(lambda: any("Monday" in t for t in reader.texts()))

    clock.advance(timedelta(hours=24, minutes=1))
    wake_scheduler(bot)
    await eventually(lambda: not alerts(reader))
    await settle(fake)
    assert not any("document" in m for m in reader.messages()), "the statement went too"
    assert not any("Monday" in t for t in reader.texts()), "and the update"

    # Closing tells those who responded; the closed case refuses further responses.
    await admin.send("/solidarity")
    await admin.click("🗂")
    await admin.click("🏁")
    await admin.click("Released")
    await eventually(lambda: any("🏁" in t for t in reader.texts()))
    await reader.press_data(AlertCb(action="seen", case_id=2).pack(), reader.last())
    assert "já não está aberto" in (reader.callback_answer() or {}).get("text", "")


async def case_count(bot: RunningBot) -> int:
    return int(await bot.db(lambda s: s.scalar(select(func.count()).select_from(SolidarityCase))))


async def test_an_audience_of_languages_and_working_groups(bot: RunningBot) -> None:
    french = await add_member(bot, 7201, locale="fr", country="SN")
    in_group = await add_member(bot, 7202, locale="en", country="KE")
    await add_member(bot, 7203, locale="en", country="KE")
    await add_member(bot, 7204, locale="fr", country="FR", status="pending")
    group = await make_group(bot)
    await add_to_group(bot, group, in_group)
    audience = toggle_audience({"everyone": True}, "l-fr")
    audience = toggle_audience(audience, f"g-{group}")
    assert audience == {"everyone": False, "regions": [], "locales": ["fr"], "groups": [group]}

    async def ids(session: Any) -> list[int]:
        return sorted(await session.scalars(audience_ids(audience)))

    assert await bot.db(ids) == sorted([french.id, in_group.id])
    assert toggle_audience(toggle_audience(audience, "l-fr"), f"g-{group}")["everyone"]
    assert toggle_audience(audience, "everyone") == {"everyone": True}
