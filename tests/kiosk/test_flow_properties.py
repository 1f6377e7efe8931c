"""Random event sequences: the flow never reaches an undefined state, and inactivity always
brings it back to the attract screen with the citizen's data gone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from contract import signalling as p
from kiosk.flow import (
    CALL_STATES,
    STEP_STATES,
    AnswerConsent,
    AnswerSurvey,
    Back,
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
    FlowError,
    HandsetHungUp,
    HandsetKey,
    HandsetLifted,
    HangUp,
    HomeEntry,
    HubLink,
    PresenceDetected,
    PresenceLost,
    RecordEvent,
    RequestTicket,
    SkipSurvey,
    State,
    StepFinished,
    StepPrepared,
    SubmitSignature,
    TechnicianGesture,
    Tick,
    ToggleHighContrast,
    ToggleLargeText,
    ToggleMute,
    TouchScreen,
)
from kiosk.session import Session

CONFIG = FlowConfig(
    services=("general", "taxes"),
    idle_s=30,
    warning_s=10,
    queue_idle_s=120,
    goodbye_s=5,
    long_wait_s=300,
)
AT = datetime(2025, 3, 14, 9, 31, tzinfo=UTC)
PARTY = p.Party(id="7", name="Agent")

# Events that need the current call and step are built when they are dispatched.
Maker = Callable[[Flow], Any]


def _call(flow: Flow, ours: bool) -> str:
    return (flow.session.call_id or "none") if ours else "stale-call"


def _step(flow: Flow, ours: bool) -> str:
    step = flow.session.step
    return step.step_id if ours and step is not None else "stale-step"


def _makers() -> st.SearchStrategy[Maker]:
    fixed = st.sampled_from(
        [
            TouchScreen(),
            CancelWaiting(),
            ComeBackLater(),
            HangUp(),
            ToggleMute(),
            ConfirmStep(),
            DeclineStep(),
            SkipSurvey(),
            Back(),
            Finish(),
            RequestTicket(),
            ToggleLargeText(),
            ToggleHighContrast(),
            TechnicianGesture(),
            HandsetLifted(),
            HandsetHungUp(),
            HandsetKey("5"),
            PresenceDetected(),
            PresenceLost(),
            Tick(),
            SubmitSignature(b"\x89PNG\r\n\x1a\nxx"),
            SubmitSignature(b"junk"),
            EnterPin("1234"),
            EnterPin("0000"),
        ]
    ).map(lambda e: lambda _f: e)
    valued = st.one_of(
        st.sampled_from(["es", "ca", "eu", "fr", ""]).map(ChooseLanguage),
        st.sampled_from(list(HomeEntry)).map(ChooseEntry),
        st.sampled_from(["general", "taxes", "complaints", "x"]).map(ChooseService),
        st.booleans().map(AnswerConsent),
        st.tuples(st.integers(-1, 7), st.text(max_size=20)).map(lambda a: AnswerSurvey(*a)),
        st.booleans().map(HubLink),
        st.sampled_from(["camera", "receipt_printer", "scanner"]).map(
            lambda d: DeviceFailed(d, "missing")
        ),
        st.sampled_from(["camera", "receipt_printer"]).map(DeviceRecovered),
    ).map(lambda e: lambda _f: e)
    ours = st.booleans()
    hub = st.one_of(
        st.tuples(ours, st.integers(1, 9), st.floats(0, 2000)).map(
            lambda a: (
                lambda f: p.QueueUpdate(
                    call_id=_call(f, a[0]), position=a[1], estimated_wait_s=a[2], queued_at=AT
                )
            )
        ),
        ours.map(lambda o: lambda f: p.ServiceClosed(call_id=_call(f, o), opens_at=AT)),
        st.tuples(ours, st.booleans()).map(
            lambda a: (
                lambda f: p.CallConnected(
                    call_id=_call(f, a[0]),
                    attention_id="00000000-0000-4000-8000-000000000000",
                    peer=PARTY,
                    you_offer=a[1],
                )
            )
        ),
        ours.map(lambda o: lambda f: p.CallEnded(call_id=_call(f, o), reason="hangup")),
        ours.map(lambda o: lambda f: p.Error(code="invalid", message="x", ref=_call(f, o))),
        st.tuples(
            ours, st.sampled_from(["scan", "print_a4", "print_receipt", "sign", "show_info"])
        ).map(lambda a: lambda f: p.StepRequest(call_id=_call(f, a[0]), step_id="s1", kind=a[1])),
        st.tuples(ours, st.sampled_from(["done", "failed"])).map(
            lambda a: lambda f: StepFinished(_step(f, a[0]), a[1], error="jammed")
        ),
        ours.map(lambda o: lambda f: StepPrepared(_step(f, o), Path("/citizen/preview.png"))),
        st.just(lambda _f: p.Pong()),
    )
    return st.one_of(fixed, valued, hub)


def _check_invariants(flow: Flow) -> None:
    state, session = flow.state, flow.session
    assert isinstance(state, State)
    assert (session.attention_id is None) == (state in (State.ATTRACT, State.TECHNICIAN))
    assert (session.call_id is not None) == (state in CALL_STATES or state is State.QUEUE)
    assert session.connected == (state in CALL_STATES)
    assert (session.step is not None) == (state in STEP_STATES)
    assert not flow.step_running or state in STEP_STATES
    remaining = flow.warning_remaining()
    assert remaining is None or 0 <= remaining <= CONFIG.warning_s


def _fresh(session: Session) -> bool:
    blank = Session(language=CONFIG.default_language)
    return all(getattr(session, f.name) == getattr(blank, f.name) for f in fields(Session))


def _ahead(event: Any) -> Maker:
    return lambda _f: event


#: Events that move each state towards the deeper ones, so random runs reach calls and steps.
GUIDE: dict[State, list[Maker]] = {
    State.ATTRACT: [_ahead(TouchScreen()), _ahead(HandsetLifted()), _ahead(TechnicianGesture())],
    State.TECHNICIAN: [_ahead(EnterPin("1234"))],
    State.LANGUAGE: [_ahead(ChooseLanguage("eu"))],
    State.HOME: [
        _ahead(ChooseEntry(HomeEntry.TALK_TO_AGENT)),
        _ahead(ChooseEntry(HomeEntry.TALK_TO_AGENT)),
        _ahead(ChooseEntry(HomeEntry.INFORMATION)),
        _ahead(ChooseEntry(HomeEntry.COMPLAINT)),
        _ahead(HubLink(True)),
    ],
    State.TOPIC: [_ahead(ChooseService("taxes"))],
    State.CONSENT: [_ahead(AnswerConsent(True))],
    State.QUEUE: [
        lambda f: p.QueueUpdate(
            call_id=_call(f, True), position=1, estimated_wait_s=400, queued_at=AT
        ),
        lambda f: p.CallConnected(
            call_id=_call(f, True),
            attention_id="00000000-0000-4000-8000-000000000000",
            peer=PARTY,
            you_offer=True,
        ),
    ],
    State.CALL: [
        lambda f, kind=kind: p.StepRequest(call_id=_call(f, True), step_id="s1", kind=kind)
        for kind in ("scan", "print_a4", "sign", "show_info")
    ],
    State.STEP_SCAN: [_ahead(ConfirmStep()), lambda f: StepFinished(_step(f, True), "done")],
    State.STEP_PRINT: [lambda f: StepFinished(_step(f, True), "failed", error="paper_out")],
    State.STEP_SIGN: [
        lambda f: StepPrepared(_step(f, True), Path("/citizen/p.png")),
        _ahead(SubmitSignature(b"\x89PNG\r\n\x1a\nxx")),
        lambda f: StepFinished(_step(f, True), "done"),
    ],
    State.STEP_INFO: [_ahead(ConfirmStep())],
    State.SURVEY: [_ahead(AnswerSurvey(4, "ok"))],
    State.OUT_OF_SERVICE: [_ahead(HubLink(True)), _ahead(DeviceRecovered("camera"))],
}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), length=st.integers(0, 80))
def test_random_events_keep_the_flow_defined_and_inactivity_wipes_the_session(
    make_flow: Callable[..., Flow], clock: Any, data: Any, length: int
) -> None:
    flow = make_flow(CONFIG, pin="1234")
    recorded: list[RecordEvent] = []
    erased: list[Session] = []

    def run(event: Any) -> None:
        try:
            out = flow.dispatch(event)
        except FlowError:
            return
        recorded.extend(c for c in out if isinstance(c, RecordEvent))
        erased.extend(c.session for c in out if isinstance(c, EraseCitizenData))

    anything = _makers()
    for _ in range(length):
        guided = GUIDE.get(flow.state)
        if guided and data.draw(st.booleans()):
            make = data.draw(st.sampled_from(guided))
        else:
            make = data.draw(anything)
        clock.advance(data.draw(st.sampled_from([0.0, 0.5, 5.0, 40.0])))
        run(make(flow))
        _check_invariants(flow)
        note_event(f"reached {flow.state.value}")

    if flow.state in CALL_STATES:
        run(p.CallEnded(call_id=flow.session.call_id or "", reason="hangup"))
    for _ in range(3):
        clock.advance(CONFIG.queue_idle_s + CONFIG.warning_s + CONFIG.goodbye_s)
        run(Tick())
        _check_invariants(flow)
    assert flow.state is State.ATTRACT
    assert _fresh(flow.session)
    assert all(s is not flow.session for s in erased)

    # Each attention's events start with attention.started and end with attention.ended.
    by_attention: dict[str, list[str]] = {}
    for event in recorded:
        by_attention.setdefault(event.attention_id, []).append(event.kind.value)
    for kinds in by_attention.values():
        assert kinds[0] == "attention.started" and kinds[-1] == "attention.ended"
        assert kinds.count("attention.started") == kinds.count("attention.ended") == 1
    assert {s.attention_id for s in erased if s.attention_id} == set(by_attention)
