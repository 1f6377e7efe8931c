"""A citizen's whole visit, by real touches on the real screens, without a hub.

Each scenario runs in a Kivy process of its own (see :mod:`kiosk.devtools.testing`); the hub's
messages are handed to the flow as the hub client would hand them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.devtools.testing import run_in_kivy

pytestmark = pytest.mark.slow


async def _a_visit_in_basque() -> None:
    from contract import signalling as p
    from kiosk import texts
    from kiosk.devtools.kit import kiosk_app
    from kiosk.flow import State

    async with kiosk_app() as kit:
        ui = kit.driver
        assert ui.screen == "attract"
        await ui.tap_at(960, 540)
        await ui.wait_for_screen("language")
        await ui.tap("lang_eu")
        await ui.wait_for_screen("home")
        assert kit.app.lang == "eu"
        heading = texts.tr(texts.TITLES[State.HOME], "eu")
        assert heading != texts.TITLES[State.HOME], "the Basque catalog should translate it"
        assert any(getattr(w, "text", None) == heading for w in kit.app.current_screen().walk())
        await ui.tap("talk_to_agent")
        await ui.wait_for_screen("topic")
        await ui.tap("service_padron")
        await ui.wait_for_screen("consent")
        await ui.tap("consent_yes")
        await ui.wait_for_screen("queue")
        session = kit.flow.session
        assert session.recording_consent is True and session.service == "padron"
        call_id, attention_id = session.call_id, session.attention_id
        assert call_id is not None and attention_id is not None

        kit.deliver(
            p.QueueUpdate(
                call_id=call_id, position=2, estimated_wait_s=150, queued_at=datetime.now(UTC)
            )
        )
        await ui.wait_until(lambda: "1" in ui.find("position").text, "the place in the queue")
        kit.deliver(
            p.CallConnected(
                call_id=call_id,
                attention_id=attention_id,
                peer=p.Party(id="7", name="Nerea"),
                you_offer=True,
            )
        )
        await ui.wait_for_screen("call")
        await ui.tap("mute")
        assert kit.flow.session.muted and "SetMute" in kit.commands
        await ui.tap("hang_up")
        await ui.wait_for_screen("survey")
        await ui.tap("face_4")
        await ui.wait_for_screen("goodbye")
        await ui.tap_at(400, 400)
        await ui.wait_for_screen("attract")

        assert "EraseCitizenData" in kit.commands
        assert kit.flow.session.attention_id is None
        assert kit.flow.session.language == "es"
        assert kit.app.lang == "es"
        assert kit.app.refused == []
        sent = [c for c in kit.commands if c == "SendToHub"]
        assert len(sent) >= 2  # the call request and the hang-up


def test_a_visit_in_basque_goes_round_and_leaves_nothing_behind() -> None:
    run_in_kivy(__file__, "_a_visit_in_basque")


async def _accessibility_is_one_tap_away_and_forgotten_after() -> None:
    from kiosk.devtools.driver import can_touch
    from kiosk.devtools.kit import kiosk_app
    from kiosk.screens.palette import HIGH_CONTRAST, LARGE_TEXT_SCALE, NORMAL

    async with kiosk_app() as kit:
        ui = kit.driver
        await ui.tap_at(960, 540)
        await ui.wait_for_screen("language")
        await ui.tap("lang_ca")
        await ui.wait_for_screen("home")
        before = ui.find("talk_to_agent").ids.label.font_size
        await ui.tap("contrast_toggle")
        assert kit.app.theme.high_contrast
        assert tuple(kit.app.theme.background) == HIGH_CONTRAST.background
        await ui.tap("text_toggle")
        assert kit.app.theme.text_scale == LARGE_TEXT_SCALE
        assert ui.find("talk_to_agent").ids.label.font_size == pytest.approx(
            before * LARGE_TEXT_SCALE
        )
        # Still set on the next screen: the choice is the citizen's, not the screen's.
        await ui.tap("talk_to_agent")
        await ui.wait_for_screen("topic")
        assert kit.app.theme.high_contrast and kit.app.theme.large_text
        await ui.tap("contrast_toggle")
        assert not kit.app.theme.high_contrast
        await ui.tap("contrast_toggle")
        await ui.tap("back")
        await ui.wait_for_screen("home")
        await ui.tap("finish")
        await ui.wait_for_screen("goodbye")
        await ui.tap_at(500, 500)
        await ui.wait_for_screen("attract")
        assert not kit.app.theme.high_contrast and not kit.app.theme.large_text
        assert tuple(kit.app.theme.background) == NORMAL.background
        assert not can_touch(ui.find("contrast_toggle"))  # no bar on the attract screen


def test_contrast_and_text_size_apply_everywhere_and_end_with_the_visit() -> None:
    run_in_kivy(__file__, "_accessibility_is_one_tap_away_and_forgotten_after")


async def _inactivity_warns_then_starts_over() -> None:
    from kiosk.devtools.kit import kiosk_app, sample_flow
    from kiosk.flow import FlowConfig

    flow = sample_flow(FlowConfig(services=("general",), idle_s=0.6, warning_s=1.5))
    async with kiosk_app(flow) as kit:
        ui = kit.driver
        await ui.tap_at(960, 540)
        await ui.wait_for_screen("language")
        await ui.tap("lang_gl")
        await ui.wait_for_screen("home")
        warning = ui.find("warning")
        await ui.wait_until(lambda: warning.shown, "the inactivity warning")
        assert warning.opacity == 1 and warning.countdown
        # Touching the warning keeps the visit, and presses nothing beneath it.
        await ui.tap("still_here")
        assert not warning.shown and ui.screen == "home"
        await ui.wait_until(lambda: warning.shown, "the warning, a second time")
        await ui.wait_for_screen("attract", within_s=10)
        assert not warning.shown
        assert kit.flow.session.attention_id is None
        assert kit.commands.count("EraseCitizenData") == 1


def test_inactivity_warns_first_then_starts_over_with_the_data_erased() -> None:
    run_in_kivy(__file__, "_inactivity_warns_then_starts_over")


async def _a_disabled_entry_does_nothing() -> None:
    from kiosk.devtools.driver import DriverError
    from kiosk.devtools.kit import kiosk_app

    async with kiosk_app() as kit:
        ui = kit.driver
        await ui.tap_at(960, 540)
        await ui.wait_for_screen("language")
        await ui.tap("lang_es")
        await ui.wait_for_screen("home")
        appointment = ui.find("appointment")
        assert appointment.disabled
        with pytest.raises(DriverError):
            await ui.tap("appointment")
        # A finger does not know it is disabled: touch it anyway.
        await ui.tap_at(*appointment.to_window(*appointment.center))
        assert ui.screen == "home"
        assert kit.app.refused == []


def test_touching_an_entry_that_is_not_available_yet_changes_nothing() -> None:
    run_in_kivy(__file__, "_a_disabled_entry_does_nothing")


async def _out_of_service_keeps_what_works() -> None:
    from kiosk.devtools.kit import kiosk_app
    from kiosk.flow import HubLink

    async with kiosk_app() as kit:
        ui = kit.driver
        await ui.tap_at(960, 540)
        await ui.wait_for_screen("language")
        await ui.tap("lang_ca_valencia")
        await ui.wait_for_screen("home")
        kit.deliver(HubLink(online=False))
        await ui.wait_for_screen("out_of_service")
        await ui.tap("print_ticket")
        assert "PrintTicket" in kit.commands
        await ui.tap("information")
        await ui.wait_for_screen("information")
        # No source of information in this kiosk: the screen says so instead of spinning.
        await ui.wait_until(lambda: ui.find("unavailable").text != "", "the apology")
        await ui.tap("back")
        await ui.wait_for_screen("out_of_service")
        kit.deliver(HubLink(online=True))
        await ui.wait_for_screen("home")


def test_out_of_service_offers_information_and_a_ticket_and_recovers() -> None:
    run_in_kivy(__file__, "_out_of_service_keeps_what_works")
