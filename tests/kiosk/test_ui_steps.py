"""The agent's steps on screen: scan, print, sign and show a page, by real touches."""

from __future__ import annotations

import pytest

from kiosk.devtools.testing import run_in_kivy

pytestmark = pytest.mark.slow


async def _into_a_call(kit: object) -> str:
    """Touch through to a connected call; returns the call id."""
    from contract import signalling as p
    from kiosk.devtools.kit import Kit

    assert isinstance(kit, Kit)
    ui = kit.driver
    await ui.tap_at(960, 540)
    await ui.wait_for_screen("language")
    await ui.tap("lang_es")
    await ui.wait_for_screen("home")
    await ui.tap("talk_to_agent")
    await ui.wait_for_screen("topic")
    await ui.tap("service_general")
    await ui.tap("consent_no")
    await ui.wait_for_screen("queue")
    session = kit.flow.session
    assert session.call_id is not None and session.attention_id is not None
    kit.deliver(
        p.CallConnected(
            call_id=session.call_id,
            attention_id=session.attention_id,
            peer=p.Party(id="2", name="Marcos"),
            you_offer=True,
        )
    )
    await ui.wait_for_screen("call")
    return session.call_id


async def _sign_with_a_finger() -> None:
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from contract import signalling as p
    from kiosk.devtools.kit import kiosk_app
    from kiosk.devtools.tour import sample_page
    from kiosk.flow import StepFinished, StepPrepared

    async with kiosk_app() as kit:
        ui = kit.driver
        call_id = await _into_a_call(kit)
        kit.deliver(p.StepRequest(call_id=call_id, step_id="s1", kind="sign", document_id="d1"))
        await ui.wait_for_screen("step_sign")
        assert "PrepareStep" in kit.commands
        accept = ui.find("accept")
        assert accept.disabled, "nothing to sign yet: no document, no signature"
        with TemporaryDirectory() as tmp:
            kit.deliver(StepPrepared("s1", sample_page(Path(tmp) / "page.png")))
            await ui.wait_until(lambda: ui.find("document").texture is not None, "the page")
            assert accept.disabled, "a document but no signature yet"
            await ui.draw("pad", [(0.1, 0.3), (0.3, 0.6), (0.5, 0.3), (0.7, 0.6), (0.9, 0.3)])
            assert ui.find("pad").signed and not accept.disabled
            await ui.tap("clear_pad")
            assert not ui.find("pad").signed and accept.disabled
            await ui.draw("pad", [(0.1 + 0.08 * i, 0.3 + 0.3 * (i % 2)) for i in range(10)])
            await ui.tap("accept")
            assert kit.commands[-1] == "RunStep"
            assert kit.flow.step_running
            assert ui.find("accept").disabled and ui.find("decline").disabled
            assert not ui.find("pad").signed, "the strokes leave the screen once sent"
            kit.deliver(StepFinished("s1", "done", document_id="signed-1"))
            await ui.wait_for_screen("call")


def test_the_citizen_signs_with_a_finger_and_the_signature_goes_to_the_step() -> None:
    run_in_kivy(__file__, "_sign_with_a_finger")


async def _scan_or_decline() -> None:
    from contract import signalling as p
    from kiosk.devtools.kit import kiosk_app
    from kiosk.flow import StepFinished

    async with kiosk_app() as kit:
        ui = kit.driver
        call_id = await _into_a_call(kit)
        kit.deliver(p.StepRequest(call_id=call_id, step_id="s1", kind="scan"))
        await ui.wait_for_screen("step_scan")
        await ui.tap("scan")
        assert kit.commands[-1] == "RunStep" and ui.find("scan").disabled
        kit.deliver(StepFinished("s1", "failed", error="paper_out"))
        await ui.wait_for_screen("call")
        # The failure is explained on the call screen, in the citizen's language.
        await ui.wait_until(lambda: ui.find("notice").text != "", "the failure notice")
        assert "papel" in ui.find("notice").text.lower()

        kit.deliver(p.StepRequest(call_id=call_id, step_id="s2", kind="scan"))
        await ui.wait_for_screen("step_scan")
        await ui.tap("decline")
        await ui.wait_for_screen("call")
        assert ui.find("notice").text == ""

        kit.deliver(p.StepRequest(call_id=call_id, step_id="s3", kind="print_a4", document_id="d"))
        await ui.wait_for_screen("step_print")
        kit.deliver(StepFinished("s3", "done"))
        await ui.wait_for_screen("call")

        kit.deliver(
            p.StepRequest(
                call_id=call_id, step_id="s4", kind="show_info", params={"title": "Horari d'estiu"}
            )
        )
        await ui.wait_for_screen("step_info")
        assert kit.app.current_screen().title == "Horari d'estiu"
        await ui.tap("done")
        await ui.wait_for_screen("call")
        await ui.tap("hang_up")
        await ui.wait_for_screen("survey")
        await ui.tap("skip")
        await ui.wait_for_screen("goodbye")
        assert kit.app.refused == []


def test_scan_print_and_show_steps_come_and_go_back_to_the_call() -> None:
    run_in_kivy(__file__, "_scan_or_decline")


async def _the_agent_video_shows_and_is_gone_after() -> None:
    from kiosk.devtools.kit import kiosk_app
    from kiosk.devtools.tour import sample_person

    async with kiosk_app() as kit:
        ui = kit.driver
        await _into_a_call(kit)
        agent = ui.find("agent_video")
        assert not agent.has_picture
        frame = sample_person(320, 240, shirt=(0, 0, 200), wall=(200, 200, 200))
        kit.app.show_agent_frame(frame[:, :, ::-1].copy(), "rgb")
        kit.app.show_own_frame(frame)
        assert agent.has_picture and ui.find("own_video").has_picture
        with pytest.raises(ValueError, match="uint8"):
            kit.app.show_agent_frame(frame.astype("float32"))
        await ui.tap("hang_up")
        await ui.wait_for_screen("survey")
        await ui.wait_until(lambda: not agent.has_picture, "the agent's picture to go")


def test_the_agents_video_is_drawn_and_forgotten_when_the_call_ends() -> None:
    run_in_kivy(__file__, "_the_agent_video_shows_and_is_gone_after")
