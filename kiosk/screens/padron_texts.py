"""What the padrón screens say about a problem, in the citizen's language.

The hub's refusals arrive with their message already translated; what the cabin finds itself
(a wrong control letter, a day that does not exist) is said with the words the hub uses too,
from :mod:`cabina.identity_texts`, so the cabin and the hub never word the same mistake twice;
the rest (no hub, a printer fault) are the kiosk's.
"""

from __future__ import annotations

from cabina.identity_texts import refusal_text
from contract.identity import InvalidBirthDate, InvalidDocument
from kiosk import texts
from kiosk.flow.padron import PadronProblem
from kiosk.screens.texts_ui import translate, ui_text

EMPTY_CODE = ui_text("Please type the code you received.")
HUB_UNREACHABLE = ui_text(
    "We cannot reach the city council's system right now. Please try again in a moment."
)
SOMETHING_FAILED = ui_text("That did not work. Please try again, or talk to an agent.")
RETRY_FROM = ui_text("You can try again from {when}.")
ATTEMPTS_LEFT = ui_text("Attempts left: {n}.")


def problem_text(problem: PadronProblem | None, lang: str) -> str:
    """The plain sentence(s) for ``problem`` in ``lang``; empty for none."""
    if problem is None:
        return ""
    text = problem.message or _own_text(problem, lang)
    if problem.code == "too_many_attempts" and problem.retry_at is not None:
        when = texts.when_text(problem.retry_at, lang)
        text = f"{text} {translate(RETRY_FROM, lang).format(when=when)}"
    if problem.code == "wrong_code" and problem.attempts_left is not None:
        text = f"{text} {translate(ATTEMPTS_LEFT, lang).format(n=problem.attempts_left)}"
    return text


def _own_text(problem: PadronProblem, lang: str) -> str:
    code, reason = problem.code, problem.reason or ""
    if code in (InvalidDocument.code, InvalidBirthDate.code):
        return refusal_text(code, reason, lang)
    if code == "empty_code":
        return translate(EMPTY_CODE, lang)
    if code == "hub_unreachable":
        return translate(HUB_UNREACHABLE, lang)
    said = texts.notice_text(code, lang)
    generic = texts.notice_text("no-such-notice", lang)
    return said if said != generic else translate(SOMETHING_FAILED, lang)
