"""The citizen flow, driven without a window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contract import signalling as p
from contract.events import EventKind
from kiosk.flow import (
    AnswerConsent,
    AnswerSurvey,
    Back,
    CancelStep,
    CancelWaiting,
    ChooseEntry,
    ChooseLanguage,
    ChooseService,
    ComeBackLater,
    ConfirmStep,
    DeclineStep,
    DeviceFailed,
    DeviceRecovered,
    EnterPin,
    EraseCitizenData,
    Finish,
    Flow,
    FlowConfig,
    HandsetHungUp,
    HandsetLifted,
    HangUp,
    HomeEntry,
    HubLink,
    InvalidChoice,
    LoadInformation,
    PrepareStep,
    PresenceDetected,
    PresenceLost,
    PrintTicket,
    RecordEvent,
    RequestTicket,
    RunStep,
    SendToHub,
    SetMute,
    SkipSurvey,
    StartCall,
    State,
    StepFinished,
    StepPrepared,
    StopCall,
    SubmitSignature,
    TechnicianGesture,
    Tick,
    ToggleHighContrast,
    ToggleLargeText,
    ToggleMute,
    TouchScreen,
    TransitionRefused,
    UnhandledEvent,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
AGENT = p.Party(id="7", name="Agent Garcia")
QUEUED_AT = datetime(2025, 3, 14, 9, 31, tzinfo=UTC)


def kinds(commands: list[Any]) -> list[str]:
    return [c.kind.value for c in commands if isinstance(c, RecordEvent)]


def sent(commands: list[Any]) -> list[p.Message]:
    return [c.message for c in commands if isinstance(c, SendToHub)]


def to_queue(flow: Flow, service: str = "general") -> list[Any]:
    """Walk from the attract screen into the queue; returns every command given."""
    out = flow.dispatch(TouchScreen())
    out += flow.dispatch(ChooseLanguage("ca"))
    out += flow.dispatch(ChooseEntry(HomeEntry.TALK_TO_AGENT))
    out += flow.dispatch(ChooseService(service))
    out += flow.dispatch(AnswerConsent(recording=False))
    return out


def to_call(flow: Flow) -> list[Any]:
    out = to_queue(flow)
    call_id = flow.session.call_id
    assert call_id is not None
    out += flow.dispatch(
        p.CallConnected(
            call_id=call_id, attention_id=flow.session.attention_id, peer=AGENT, you_offer=True
        )
    )
    return out


def test_a_whole_attention_logs_its_events_and_ends_with_a_reset(
    make_flow: Callable[..., Flow], clock: Any
) -> None:
    flow = make_flow()
    out = to_call(flow)
    assert flow.state is State.CALL
    call_id = flow.session.call_id
    attention_id = flow.session.attention_id
    assert kinds(out) == ["attention.started", "language.chosen", "consent.recorded"]
    request = sent(out)[0]
    assert isinstance(request, p.CallRequest)
    assert (request.attention_id, request.service, request.language) == (
        attention_id,
        "general",
        "ca",
    )
    assert StartCall(call_id, True) in out  # type: ignore[arg-type]
    assert all(c.attention_id == attention_id for c in out if isinstance(c, RecordEvent))

    out = flow.dispatch(HangUp())
    assert flow.state is State.SURVEY
    assert sent(out) == [p.CallEnd(call_id=call_id)]  # type: ignore[arg-type]
    assert StopCall(call_id) in out  # type: ignore[arg-type]

    out = flow.dispatch(AnswerSurvey(5, "Molt amable"))
    assert flow.state is State.GOODBYE
    survey = next(c for c in out if isinstance(c, RecordEvent))
    assert survey.kind is EventKind.SURVEY_ANSWERED
    assert survey.data == {"satisfaction": 5, "comment": "Molt amable"}

    clock.advance(flow.config.goodbye_s)
    out = flow.dispatch(Tick())
    assert flow.state is State.ATTRACT
    assert kinds(out) == ["attention.ended"]
    assert next(c for c in out if isinstance(c, RecordEvent)).data == {"reason": "finished"}
    erase = [c for c in out if isinstance(c, EraseCitizenData)]
    assert len(erase) == 1 and erase[0].session.attention_id == attention_id
    assert flow.session.attention_id is None and flow.session.language == "es"


def test_queue_updates_move_the_place_and_a_long_wait_offers_coming_back(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow(FlowConfig(long_wait_s=600))
    to_queue(flow)
    call_id = flow.session.call_id
    assert call_id is not None
    flow.dispatch(
        p.QueueUpdate(call_id=call_id, position=3, estimated_wait_s=120, queued_at=QUEUED_AT)
    )
    assert (flow.session.queue_position, flow.long_wait) == (3, False)
    flow.dispatch(
        p.QueueUpdate(call_id=call_id, position=9, estimated_wait_s=900, queued_at=QUEUED_AT)
    )
    assert flow.long_wait and flow.session.queued_at == QUEUED_AT
    out = flow.dispatch(ComeBackLater())
    assert sent(out) == [p.CallCancel(call_id=call_id)]
    assert flow.state is State.GOODBYE and flow.session.call_id is None


def test_cancelling_the_wait_goes_home_and_late_hub_messages_are_ignored(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_queue(flow)
    call_id = flow.session.call_id
    assert call_id is not None
    out = flow.dispatch(CancelWaiting())
    assert flow.state is State.HOME and sent(out) == [p.CallCancel(call_id=call_id)]
    attention = flow.session.attention_id
    late = p.CallConnected(call_id=call_id, attention_id=attention, peer=AGENT, you_offer=True)
    assert flow.dispatch(late) == []
    assert flow.dispatch(p.CallEnded(call_id=call_id, reason="cancelled")) == []
    assert flow.state is State.HOME


def test_a_closed_service_says_when_it_opens_and_can_print_a_ticket(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_queue(flow)
    opens = datetime(2025, 3, 17, 8, 0, tzinfo=UTC)
    flow.dispatch(p.ServiceClosed(call_id=flow.session.call_id or "", opens_at=opens))
    assert flow.state is State.CLOSED and flow.session.opens_at == opens
    assert flow.session.call_id is None
    assert flow.dispatch(RequestTicket()) == [PrintTicket("ca", opens)]
    flow.dispatch(Back())
    assert flow.state is State.HOME


def test_the_hub_ending_an_unanswered_call_returns_home_with_a_notice(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_queue(flow)
    flow.dispatch(p.CallEnded(call_id=flow.session.call_id or "", reason="no_agents"))
    assert (flow.state, flow.notice) == (State.HOME, "call_not_answered")


def test_a_refused_call_request_leaves_the_queue(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow()
    to_queue(flow)
    flow.dispatch(p.Error(code="invalid", message="nope", ref="someone-else"))
    assert flow.state is State.QUEUE
    flow.dispatch(p.Error(code="invalid", message="nope", ref=flow.session.call_id))
    assert (flow.state, flow.notice) == (State.HOME, "call_refused")


def test_the_agent_ending_the_call_leads_to_the_survey(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow()
    to_call(flow)
    call_id = flow.session.call_id or ""
    out = flow.dispatch(p.CallEnded(call_id=call_id, reason="hangup"))
    assert flow.state is State.SURVEY
    assert sent(out) == [] and StopCall(call_id) in out
    flow.dispatch(SkipSurvey())
    assert flow.state is State.GOODBYE
    out = flow.dispatch(TouchScreen())
    assert flow.state is State.ATTRACT and kinds(out) == ["attention.ended"]


def test_hanging_up_the_handset_ends_the_call_but_not_during_a_step(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_call(flow)
    flow.dispatch(HandsetLifted())
    assert flow.state is State.CALL and flow.handset_off_hook
    call_id = flow.session.call_id or ""
    flow.dispatch(p.StepRequest(call_id=call_id, step_id="s1", kind="scan"))
    flow.dispatch(HandsetHungUp())
    assert flow.state is State.STEP_SCAN
    flow.dispatch(DeclineStep())
    flow.dispatch(HandsetHungUp())
    assert flow.state is State.SURVEY


def test_lifting_the_handset_asks_for_an_agent_with_the_topic_as_the_only_tap(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()  # two topics: general, taxes
    out = flow.dispatch(HandsetLifted())
    assert flow.state is State.TOPIC and flow.handset_off_hook and flow.handset_request
    assert kinds(out) == ["attention.started"] and sent(out) == []
    assert flow.session.language == "es"  # the cabin's default, no language screen

    out = flow.dispatch(ChooseService("taxes"))
    assert flow.state is State.QUEUE
    # Nobody was asked about recording, so nothing is recorded and no answer is invented.
    assert kinds(out) == [] and flow.session.recording_consent is None
    request = sent(out)[0]
    assert isinstance(request, p.CallRequest)
    assert (request.service, request.language, request.attention_id) == (
        "taxes",
        "es",
        flow.session.attention_id,
    )

    call_id = flow.session.call_id or ""
    flow.dispatch(
        p.CallConnected(
            call_id=call_id, attention_id=flow.session.attention_id, peer=AGENT, you_offer=True
        )
    )
    assert flow.state is State.CALL
    out = flow.dispatch(HandsetHungUp())
    assert flow.state is State.SURVEY and sent(out) == [p.CallEnd(call_id=call_id)]


def test_with_one_topic_lifting_the_handset_goes_straight_to_the_queue(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow(FlowConfig(default_language="ca", services=("general",)))
    out = flow.dispatch(HandsetLifted())
    assert flow.state is State.QUEUE
    assert kinds(out) == ["attention.started"]
    [request] = sent(out)
    assert isinstance(request, p.CallRequest)
    assert (request.service, request.language, request.call_id) == (
        "general",
        "ca",
        flow.session.call_id,
    )


@pytest.mark.parametrize(
    "walk",
    [
        [TouchScreen()],
        [TouchScreen(), ChooseLanguage("eu")],
        [TouchScreen(), ChooseLanguage("eu"), ChooseEntry(HomeEntry.TALK_TO_AGENT)],
    ],
    ids=["language", "home", "topic"],
)
def test_lifting_the_handset_before_a_topic_is_chosen_asks_for_an_agent_too(
    make_flow: Callable[..., Flow], walk: list[Any]
) -> None:
    flow = make_flow()
    for event in walk:
        flow.dispatch(event)
    attention_id = flow.session.attention_id
    language = flow.session.language
    out = flow.dispatch(HandsetLifted())
    assert flow.state is State.TOPIC and kinds(out) == []  # the same attention goes on
    out = flow.dispatch(ChooseService("general"))
    request = sent(out)[0]
    assert isinstance(request, p.CallRequest)
    assert flow.state is State.QUEUE
    assert (request.attention_id, request.language) == (attention_id, language)


@pytest.mark.parametrize(
    "walk",
    [
        [ChooseEntry(HomeEntry.INFORMATION)],
        [ChooseEntry(HomeEntry.COMPLAINT)],
        [ChooseEntry(HomeEntry.TALK_TO_AGENT), ChooseService("general")],
    ],
    ids=["information", "complaint", "consent"],
)
def test_lifting_the_handset_elsewhere_changes_no_screen(
    make_flow: Callable[..., Flow], walk: list[Any]
) -> None:
    flow = make_flow()
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("ca"))
    for event in walk:
        flow.dispatch(event)
    state = flow.state
    assert flow.dispatch(HandsetLifted()) == []
    assert flow.state is state and flow.handset_off_hook and not flow.handset_request


def test_putting_the_handset_down_while_waiting_cancels_the_call_it_asked_for(
    make_flow: Callable[..., Flow], clock: Any
) -> None:
    flow = make_flow(FlowConfig(services=("general",)))
    flow.dispatch(HandsetLifted())
    call_id = flow.session.call_id
    out = flow.dispatch(HandsetHungUp())
    assert flow.state is State.GOODBYE and not flow.handset_off_hook
    assert sent(out) == [p.CallCancel(call_id=call_id or "")]
    assert flow.session.call_id is None
    clock.advance(flow.config.goodbye_s)
    out = flow.dispatch(Tick())
    assert flow.state is State.ATTRACT and kinds(out) == ["attention.ended"]


def test_lifting_the_handset_again_on_the_goodbye_screen_calls_again(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow(FlowConfig(services=("general",)))
    flow.dispatch(HandsetLifted())
    first = flow.session.attention_id
    flow.dispatch(HandsetHungUp())
    assert flow.state is State.GOODBYE
    out = flow.dispatch(HandsetLifted())
    assert kinds(out) == ["attention.ended", "attention.started"]
    assert any(isinstance(c, EraseCitizenData) for c in out)
    assert flow.state is State.QUEUE and flow.session.attention_id != first
    assert isinstance(sent(out)[-1], p.CallRequest)


def test_a_citizen_queued_by_touch_keeps_the_place_when_fiddling_with_the_handset(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_queue(flow)
    assert flow.dispatch(HandsetLifted()) == []
    assert flow.dispatch(HandsetHungUp()) == []
    assert flow.state is State.QUEUE and flow.session.call_id is not None


def test_after_hanging_up_the_handset_the_topic_leads_to_the_consent_question(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    flow.dispatch(HandsetLifted())
    flow.dispatch(HandsetHungUp())
    assert flow.state is State.TOPIC and not flow.handset_request
    flow.dispatch(ChooseService("general"))
    assert flow.state is State.CONSENT


def test_lifting_the_handset_without_a_hub_starts_the_visit_out_of_service(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow(FlowConfig(services=("general",)), online=False)
    out = flow.dispatch(HandsetLifted())
    assert flow.state is State.OUT_OF_SERVICE
    assert kinds(out) == ["attention.started"] and sent(out) == []
    assert flow.session.call_id is None
    flow.dispatch(HubLink(online=True))
    assert flow.state is State.HOME


def test_inactivity_ends_a_visit_the_handset_started_and_the_next_lift_starts_another(
    make_flow: Callable[..., Flow], clock: Any
) -> None:
    flow = make_flow()
    flow.dispatch(HandsetLifted())
    first = flow.session.attention_id
    clock.advance(flow.config.idle_s + flow.config.warning_s)
    out = flow.dispatch(Tick())
    assert flow.state is State.ATTRACT and kinds(out) == ["attention.ended"]
    assert not flow.handset_request
    flow.dispatch(HandsetHungUp())  # the handset left off its cradle is put back
    assert flow.state is State.ATTRACT
    flow.dispatch(HandsetLifted())
    assert flow.state is State.TOPIC and flow.session.attention_id not in (None, first)


def test_mute_toggles(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow()
    to_call(flow)
    assert flow.dispatch(ToggleMute()) == [SetMute(True)]
    assert flow.dispatch(ToggleMute()) == [SetMute(False)]


def test_a_scan_step_waits_for_the_citizen_then_logs_the_document(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_call(flow)
    call_id = flow.session.call_id or ""
    request = p.StepRequest(call_id=call_id, step_id="s1", kind="scan")
    out = flow.dispatch(request)
    assert flow.state is State.STEP_SCAN
    assert sent(out) == [p.StepUpdate(call_id=call_id, step_id="s1", status="accepted")]
    assert flow.dispatch(ConfirmStep()) == [RunStep(request)]
    with pytest.raises(InvalidChoice, match="already scanning"):
        flow.dispatch(ConfirmStep())
    with pytest.raises(InvalidChoice, match="running"):
        flow.dispatch(DeclineStep())
    flow.dispatch(StepFinished("other", "done"))
    assert flow.state is State.STEP_SCAN
    out = flow.dispatch(StepFinished("s1", "done", document_id="doc-9"))
    # The hub logs the scan when the cabin uploads it: nothing to record here.
    assert flow.state is State.CALL and kinds(out) == []


def test_a_failed_print_step_leaves_a_notice_and_logs_nothing(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_call(flow)
    call_id = flow.session.call_id or ""
    request = p.StepRequest(call_id=call_id, step_id="p1", kind="print_a4", document_id="d1")
    assert flow.dispatch(request) == [RunStep(request)]
    assert flow.state is State.STEP_PRINT
    with pytest.raises(TransitionRefused):
        flow.dispatch(DeclineStep())
    out = flow.dispatch(StepFinished("p1", "failed", error="paper_out"))
    assert (flow.state, flow.notice, kinds(out)) == (State.CALL, "paper_out", [])
    flow.dispatch(request)
    out = flow.dispatch(StepFinished("p1", "done"))
    printed = [c for c in out if isinstance(c, RecordEvent)]
    assert [(c.kind, c.data) for c in printed] == [
        (EventKind.DOCUMENT_PRINTED, {"step_id": "p1", "document_id": "d1"})
    ]


def test_a_signature_step_prepares_the_document_and_sends_the_png(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_call(flow)
    call_id = flow.session.call_id or ""
    request = p.StepRequest(call_id=call_id, step_id="g1", kind="sign", document_id="d2")
    assert PrepareStep(request) in flow.dispatch(request)
    flow.dispatch(StepPrepared("other", Path("/x/other.png")))
    assert flow.session.step_preview is None
    flow.dispatch(StepPrepared("g1", Path("/x/g1.png")))
    assert flow.session.step_preview == Path("/x/g1.png")
    assert Path("/x/g1.png") in flow.session.files
    with pytest.raises(InvalidChoice, match="PNG"):
        flow.dispatch(SubmitSignature(b"GIF89a"))
    out = flow.dispatch(SubmitSignature(PNG))
    assert len(out) == 1 and isinstance(out[0], RunStep)
    assert out[0].signature == bytearray(PNG)
    assert out[0].signature in flow.session.buffers
    out = flow.dispatch(StepFinished("g1", "done", document_id="d3"))
    assert kinds(out) == [] and flow.session.step_preview is None


def test_an_info_step_is_done_when_the_citizen_confirms(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow()
    to_call(flow)
    call_id = flow.session.call_id or ""
    flow.dispatch(p.StepRequest(call_id=call_id, step_id="i1", kind="show_info"))
    out = flow.dispatch(ConfirmStep())
    assert sent(out) == [p.StepUpdate(call_id=call_id, step_id="i1", status="done")]
    assert flow.state is State.CALL


def test_a_second_step_while_one_is_on_screen_is_declined_as_busy(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_call(flow)
    call_id = flow.session.call_id or ""
    flow.dispatch(p.StepRequest(call_id=call_id, step_id="a", kind="scan"))
    out = flow.dispatch(p.StepRequest(call_id=call_id, step_id="b", kind="sign"))
    assert sent(out) == [
        p.StepUpdate(call_id=call_id, step_id="b", status="declined", error="busy")
    ]
    assert flow.state is State.STEP_SCAN and flow.session.step is not None
    assert flow.session.step.step_id == "a"


def test_the_call_ending_during_a_step_cancels_it(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow()
    to_call(flow)
    call_id = flow.session.call_id or ""
    request = p.StepRequest(call_id=call_id, step_id="a", kind="scan")
    flow.dispatch(request)
    flow.dispatch(ConfirmStep())
    out = flow.dispatch(p.CallEnded(call_id=call_id, reason="hangup"))
    assert CancelStep(request) in out and flow.state is State.SURVEY
    assert flow.step_running is False and flow.session.step is None


def test_citizen_events_in_the_wrong_state_are_refused_by_name(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    with pytest.raises(
        TransitionRefused, match=r"expected HangUp in .*call.*but the flow is in attract"
    ):
        flow.dispatch(HangUp())
    with pytest.raises(TransitionRefused, match="ChooseLanguage"):
        flow.dispatch(ChooseLanguage("ca"))
    assert flow.state is State.ATTRACT


def test_bad_values_are_refused_and_change_nothing(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(FlowConfig(languages=("es", "ca"), services=("general",)))
    flow.dispatch(TouchScreen())
    with pytest.raises(InvalidChoice, match="'eu'"):
        flow.dispatch(ChooseLanguage("eu"))
    flow.dispatch(ChooseLanguage("es"))
    for entry in (HomeEntry.APPOINTMENT,):
        with pytest.raises(InvalidChoice, match="available"):
            flow.dispatch(ChooseEntry(entry))
    flow.dispatch(ChooseEntry(HomeEntry.TALK_TO_AGENT))
    with pytest.raises(InvalidChoice, match="'taxes'"):
        flow.dispatch(ChooseService("taxes"))
    flow.dispatch(ChooseService("general"))
    flow.dispatch(AnswerConsent(recording=True))
    flow.dispatch(CancelWaiting())
    flow.dispatch(Finish())
    assert flow.state is State.GOODBYE
    with pytest.raises(UnhandledEvent, match="Expected an event the flow handles, but got str"):
        flow.dispatch("touch")  # type: ignore[arg-type]


@pytest.mark.parametrize("satisfaction", [0, 6, -1, True])
def test_the_survey_takes_one_to_five_faces(
    make_flow: Callable[..., Flow], satisfaction: int
) -> None:
    flow = make_flow()
    to_call(flow)
    flow.dispatch(HangUp())
    with pytest.raises(InvalidChoice, match="1 to 5"):
        flow.dispatch(AnswerSurvey(satisfaction))
    assert flow.state is State.SURVEY


def test_a_survey_comment_loses_identity_numbers_phones_and_mail(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_call(flow)
    flow.dispatch(HangUp())
    comment = "Soc 12345678Z, truqueu al 612 345 678 o a mireia@example.org. Gràcies!"
    out = flow.dispatch(AnswerSurvey(4, comment))
    text = str(next(c for c in out if isinstance(c, RecordEvent)).data["comment"])
    assert "12345678" not in text and "612" not in text and "example.org" not in text
    assert text.startswith("Soc [") and text.endswith("Gràcies!")


def test_consent_is_recorded_with_the_answer(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow()
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("gl"))
    flow.dispatch(ChooseEntry(HomeEntry.COMPLAINT))
    assert flow.state is State.COMPLAINT
    flow.dispatch(ChooseService("complaints"))
    flow.dispatch(Back())
    assert flow.state is State.COMPLAINT
    flow.dispatch(ChooseService("complaints"))
    out = flow.dispatch(AnswerConsent(recording=True))
    consent = [c for c in out if isinstance(c, RecordEvent)]
    assert [(c.kind, c.data) for c in consent] == [
        (EventKind.CONSENT_RECORDED, {"recording": True})
    ]
    assert flow.session.recording_consent is True


def test_inactivity_warns_then_resets_and_a_touch_keeps_the_citizen(
    make_flow: Callable[..., Flow], clock: Any
) -> None:
    flow = make_flow(FlowConfig(idle_s=60, warning_s=15))
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("eu"))
    flow.dispatch(ToggleLargeText())
    clock.advance(59)
    flow.dispatch(Tick())
    assert flow.warning_remaining() is None
    clock.advance(1)
    flow.dispatch(Tick())
    assert flow.warning_remaining() == 15
    flow.dispatch(TouchScreen())
    assert flow.warning_remaining() is None and flow.state is State.HOME
    clock.advance(74)
    flow.dispatch(Tick())
    assert flow.warning_remaining() == pytest.approx(1)
    clock.advance(1)
    out = flow.dispatch(Tick())
    assert flow.state is State.ATTRACT and flow.session.large_text is False
    ended = [c for c in out if isinstance(c, RecordEvent)]
    assert [(c.kind, c.data) for c in ended] == [
        (EventKind.ATTENTION_ENDED, {"reason": "inactivity"})
    ]


def test_presence_keeps_a_waiting_citizen_in_the_queue(
    make_flow: Callable[..., Flow], clock: Any
) -> None:
    flow = make_flow(FlowConfig(queue_idle_s=300, warning_s=15))
    to_queue(flow)
    for _ in range(10):
        clock.advance(200)
        flow.dispatch(PresenceDetected())
        flow.dispatch(Tick())
    assert flow.state is State.QUEUE
    call_id = flow.session.call_id
    clock.advance(315)
    out = flow.dispatch(Tick())
    assert flow.state is State.ATTRACT
    assert p.CallCancel(call_id=call_id or "") in sent(out)


def test_presence_wakes_the_attract_screen_without_starting_a_visit(
    make_flow: Callable[..., Flow], clock: Any
) -> None:
    flow = make_flow()
    changes: list[bool] = []
    flow.subscribe(lambda f: changes.append(f.someone_present))
    assert flow.dispatch(PresenceDetected()) == []
    assert flow.someone_present and flow.state is State.ATTRACT
    assert flow.session.attention_id is None
    clock.advance(3600)
    assert flow.dispatch(Tick()) == [] and flow.state is State.ATTRACT
    assert flow.dispatch(PresenceLost()) == []
    assert not flow.someone_present and flow.state is State.ATTRACT
    assert changes == [True, False]  # the screen was told each time


def test_no_inactivity_reset_during_a_call(make_flow: Callable[..., Flow], clock: Any) -> None:
    flow = make_flow()
    to_call(flow)
    clock.advance(3600)
    assert flow.dispatch(Tick()) == [] and flow.state is State.CALL


def test_the_goodbye_resets_on_its_own_timer(make_flow: Callable[..., Flow], clock: Any) -> None:
    flow = make_flow(FlowConfig(goodbye_s=8))
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("es"))
    flow.dispatch(Finish())
    clock.advance(7.9)
    flow.dispatch(Tick())
    assert flow.state is State.GOODBYE
    clock.advance(0.1)
    flow.dispatch(Tick())
    assert flow.state is State.ATTRACT


def test_hub_loss_replaces_home_with_out_of_service_and_back(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("ca@valencia"))
    flow.dispatch(ChooseEntry(HomeEntry.TALK_TO_AGENT))
    flow.dispatch(HubLink(online=False))
    assert flow.state is State.OUT_OF_SERVICE
    assert flow.entries()[HomeEntry.TALK_TO_AGENT] is False
    with pytest.raises(InvalidChoice):
        flow.dispatch(ChooseEntry(HomeEntry.COMPLAINT))
    out = flow.dispatch(ChooseEntry(HomeEntry.INFORMATION))
    assert out == [LoadInformation("ca@valencia")] and flow.state is State.INFORMATION
    flow.dispatch(Back())
    assert flow.state is State.OUT_OF_SERVICE
    assert flow.dispatch(RequestTicket()) == [PrintTicket("ca@valencia")]
    flow.dispatch(DeviceFailed("receipt_printer", "paper_out"))
    with pytest.raises(InvalidChoice, match="receipt printer"):
        flow.dispatch(RequestTicket())
    flow.dispatch(HubLink(online=True))
    assert flow.state is State.HOME


def test_a_failed_required_device_stops_calls_but_not_a_waiting_citizen(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    to_queue(flow)
    flow.dispatch(DeviceFailed("camera", "missing"))
    assert flow.state is State.QUEUE
    flow.dispatch(CancelWaiting())
    assert flow.state is State.OUT_OF_SERVICE
    flow.dispatch(DeviceFailed("scanner", "jammed"))
    flow.dispatch(DeviceRecovered("camera"))
    assert flow.state is State.HOME and flow.service_available


def test_a_language_chosen_while_offline_lands_out_of_service(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow(online=False)
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("es"))
    assert flow.state is State.OUT_OF_SERVICE


def test_accessibility_is_for_the_current_citizen_only(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    with pytest.raises(TransitionRefused):
        flow.dispatch(ToggleHighContrast())
    flow.dispatch(TouchScreen())
    flow.dispatch(ToggleHighContrast())
    flow.dispatch(ToggleLargeText())
    assert flow.session.high_contrast and flow.session.large_text
    flow.dispatch(Back())
    assert flow.state is State.ATTRACT
    assert not (flow.session.high_contrast or flow.session.large_text)


def test_the_technician_screen_needs_the_pin(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(FlowConfig(pin_attempts=3), pin="2468")
    flow.dispatch(TechnicianGesture())
    assert flow.state is State.TECHNICIAN and not flow.technician_unlocked
    flow.dispatch(EnterPin("0000"))
    flow.dispatch(EnterPin("2468"))
    assert flow.technician_unlocked
    with pytest.raises(InvalidChoice):
        flow.dispatch(EnterPin("2468"))
    out = flow.dispatch(Back())
    assert flow.state is State.ATTRACT and not flow.technician_unlocked
    assert kinds(out) == []


def test_three_wrong_pins_lock_the_technician_out(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(FlowConfig(pin_attempts=3), pin="2468")
    flow.dispatch(TechnicianGesture())
    for _ in range(2):
        flow.dispatch(EnterPin("1111"))
    assert flow.state is State.TECHNICIAN
    flow.dispatch(EnterPin("1111"))
    assert flow.state is State.ATTRACT


def test_listeners_hear_every_change_but_not_idle_ticks(
    make_flow: Callable[..., Flow], clock: Any
) -> None:
    flow = make_flow()
    seen: list[State] = []
    unsubscribe = flow.subscribe(lambda f: seen.append(f.state))
    flow.dispatch(Tick())
    flow.dispatch(TouchScreen())
    clock.advance(1)
    flow.dispatch(Tick())
    assert seen == [State.LANGUAGE]
    unsubscribe()
    flow.dispatch(Back())
    assert seen == [State.LANGUAGE]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"languages": ("es", "fr")}, "'fr'"),
        ({"languages": ("ca",), "default_language": "es"}, "default language"),
        ({"idle_s": 0}, "idle_s > 0"),
    ],
)
def test_a_bad_flow_config_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FlowConfig(**kwargs)
