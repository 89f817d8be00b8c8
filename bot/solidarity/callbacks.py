"""The solidarity buttons: CallbackData factories carrying our ids, each int bounded so forged
huge numbers are refused as stale instead of reaching the database."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

CaseId = Annotated[int, Field(ge=0, le=2**31 - 1)]
Value = Annotated[str, Field(max_length=24)]


class RaiseCb(CallbackData, prefix="sr"):
    """A button of one step of the raise-a-case conversation."""

    step: Value
    action: Value
    value: Value = ""


class CaseCb(CallbackData, prefix="sc"):
    """A secretariat action on one case (checked against the admin's role at the tap)."""

    action: Value
    case_id: CaseId
    value: Value = ""


class AlertCb(CallbackData, prefix="sa"):
    """A member's answer to an alert: seen, an action they can take, sign on, withdraw."""

    action: Value
    case_id: CaseId
    value: Value = ""


class SolidarityCb(CallbackData, prefix="sol"):
    """The /solidarity screen: raise a case, open one."""

    action: Value
    case_id: CaseId = 0
