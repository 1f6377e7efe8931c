"""The appointment screens by real touches, off screen, with no hub behind them.

The queue offers the next free time and one touch leaves the queue for it; a time taken by
someone else, a system that does not answer and a mistyped reference are each said plainly;
the keyboard offers only the keys the field being typed takes; and a cabin that cannot reach
the hub says so when a QR code is shown.
"""

from __future__ import annotations

from kiosk.devtools.testing import run_in_kivy


async def _the_screens_by_touch() -> None:
    from pathlib import Path

    from kiosk.devtools.appointment_tour import appointment_scenes, appointment_variants
    from kiosk.devtools.kit import kiosk_app, sample_flow
    from kiosk.devtools.screenshots import SHOT_TIME
    from kiosk.effects.runner import Parts
    from kiosk.flow import QrRead, State
    from kiosk.flow.appointments import AppointmentProblem
    from kiosk.screens import appointment_texts as at
    from kiosk.screens.texts_ui import translate

    folder = Path("/nonexistent")
    scenes = dict(appointment_scenes("es", SHOT_TIME))
    variants = appointment_variants("es", SHOT_TIME)

    # The queue offers the next free time; one touch books it instead of waiting.
    flow = sample_flow()
    variants["queue"](flow, folder)
    async with kiosk_app(flow, Parts()) as kit:
        ui = kit.driver
        await ui.wait_for_screen("queue")
        offer = ui.find("book_next_slot")
        assert offer.text.startswith("Pedir cita para el "), offer.text
        await ui.tap("book_next_slot")
        await ui.wait_for_screen("appointment_details")
        assert "SendToHub" in kit.commands and kit.flow.session.call_id is None
        assert ui.find("when").text.startswith("Padrón · ")
        # The keyboard takes only what the field does: no "@" in a name, no letters in a phone.
        assert ui.find("key_@").disabled and not ui.find("key_A").disabled
        await ui.tap("phone")
        assert ui.find("key_A").disabled and not ui.find("key_7").disabled
        await ui.tap("key_5")
        await ui.tap("continue")
        assert ui.find("phone_message").text == translate(at.PROBLEMS["invalid_phone"], "es")
        assert ui.find("name_message").text == translate(at.PROBLEMS["no_name"], "es")
        await ui.tap("back")
        await ui.wait_for_screen("home")
        assert kit.app.refused == []

    # A time taken a moment ago: back to the times, with the reason.
    flow = sample_flow()
    variants["appointment_time"](flow, folder)
    async with kiosk_app(flow, Parts()) as kit:
        ui = kit.driver
        await ui.wait_for_screen("appointment_time")
        assert ui.find("message").text == translate(at.PROBLEMS["slot_taken"], "es")
        assert ui.find("time_0900") is not None

    # The appointment system does not answer: nothing booked, try again.
    flow = sample_flow()
    scenes["appointment_problem"](flow, folder)
    async with kiosk_app(flow, Parts()) as kit:
        ui = kit.driver
        await ui.wait_for_screen("appointment_problem")
        said = translate(at.PROBLEMS["external_unavailable"], "es")
        assert ui.find("message").text == said
        await ui.tap("retry")
        await ui.wait_for_screen("appointment_confirm")
        await ui.tap("confirm")  # no hub behind this kiosk: the problem again
        await ui.wait_for_screen("appointment_problem")
        assert ui.find("message").text == translate(at.PROBLEMS["hub_unreachable"], "es")

    # A mistyped reference is said under the field; a QR code with no hub says so too.
    flow = sample_flow()
    scenes["appointment_reference"](flow, folder)
    async with kiosk_app(flow, Parts()) as kit:
        ui = kit.driver
        await ui.wait_for_screen("appointment_reference")
        assert ui.find("reference").text == "CP-7K3M-"
        await ui.tap("continue")
        said = translate(at.PROBLEMS["bad_reference"], "es")
        assert ui.find("reference_message").text == said
        assert ui.find("document_message").text != ""
        await ui.tap("back")
        await ui.wait_for_screen("appointment_check_in")
        watch = kit.flow.appointment.watch_id
        assert watch is not None and "WatchForQr" in kit.commands
        kit.deliver(QrRead(watch, "https://hub.example/cita/g/" + "q" * 43))
        problem = at.problem_text(AppointmentProblem("hub_unreachable"), "es")
        await ui.wait_until(lambda: ui.find("message").text == problem, "the hub's absence")
        assert kit.flow.state is State.APPOINTMENT_CHECK_IN
        await ui.tap("back")
        await ui.wait_for_screen("home")
        assert kit.app.refused == []


def test_the_appointment_screens_by_touch() -> None:
    run_in_kivy(__file__, "_the_screens_by_touch")
