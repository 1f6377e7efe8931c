"""A guided tour of every screen: the flow events that lead to each, with sample data.

Screenshots, demos and benchmarks use it to put a fresh flow on any screen without a hub, so
each picture shows the real screen with the data a citizen would see there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from babel.dates import get_day_names
from PIL import Image, ImageDraw

from contract import signalling as p
from kiosk.devtools.appointment_tour import appointment_scenes
from kiosk.devtools.padron_tour import padron_scenes
from kiosk.flow import (
    AnswerConsent,
    AnswerSurvey,
    ChooseEntry,
    ChooseLanguage,
    ChooseService,
    EnterPin,
    Flow,
    HangUp,
    HomeEntry,
    HubLink,
    TechnicianGesture,
    TouchScreen,
)
from kiosk.screens.information import InformationItem

#: The sample agent's name.
AGENT_NAME = "Ana"
#: The PIN that unlocks the technician screen in the tour's flows.
TOUR_PIN = "2468"


@dataclass(frozen=True, slots=True)
class Scene:
    """A screen to show, how to reach it, and what else to put on it."""

    name: str
    reach: Callable[[Flow, Path], None]
    #: Whether the inactivity warning shows over the screen.
    warning: bool = False


def sample_page(path: Path, *, title_bars: int = 1) -> Path:
    """Draw a sample A4 page (bars for text, a box for a signature) as a PNG at ``path``."""
    width, height = 620, 877
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((60, 60, 300, 110), fill=(11, 79, 156))
    for i in range(title_bars):
        draw.rectangle((60, 150 + i * 40, 480, 170 + i * 40), fill=(60, 60, 60))
    y = 240
    for i in range(14):
        draw.rectangle((60, y, width - 60 - (i % 3) * 60, y + 12), fill=(150, 150, 150))
        y += 34
    draw.rectangle((340, 760, 560, 830), outline=(60, 60, 60), width=3)
    page.save(path)
    return path


def sample_information(lang: str) -> list[InformationItem]:
    """Opening hours and addresses such as a town hall publishes (sample data), in ``lang``."""
    days = get_day_names("abbreviated", locale=lang.split("@")[0])

    def span(first: int, last: int, hours: str) -> str:
        return f"{days[first]}–{days[last]} {hours}"

    return [
        InformationItem(
            "Oficina d'Atenció Ciutadana",
            (
                "Plaça de l'Ajuntament, 1 · 08001",
                span(0, 4, "8:30–14:30"),
                f"{days[3]} 16:00–19:00",
            ),
        ),
        InformationItem("Padró d'habitants", ("Carrer Major, 12, 1r", span(0, 4, "9:00–14:00"))),
        InformationItem("Cabina", (span(0, 5, "8:00–20:00"),)),
    ]


def _language(flow: Flow, lang: str) -> None:
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage(lang))


def _consent(flow: Flow, lang: str) -> None:
    _language(flow, lang)
    flow.dispatch(ChooseEntry(HomeEntry.TALK_TO_AGENT))
    flow.dispatch(ChooseService(flow.config.services[0]))


def _queue(flow: Flow, lang: str, now: datetime) -> str:
    _consent(flow, lang)
    flow.dispatch(AnswerConsent(recording=True))
    call_id = flow.session.call_id
    assert call_id is not None
    flow.dispatch(p.QueueUpdate(call_id=call_id, position=3, estimated_wait_s=260, queued_at=now))
    return call_id


def _call(flow: Flow, lang: str, now: datetime) -> str:
    call_id = _queue(flow, lang, now)
    attention_id = flow.session.attention_id
    assert attention_id is not None
    flow.dispatch(
        p.CallConnected(
            call_id=call_id,
            attention_id=attention_id,
            peer=p.Party(id="agent-1", name=AGENT_NAME),
            you_offer=True,
        )
    )
    return call_id


def _step(flow: Flow, lang: str, now: datetime, kind: p.StepKind, **params: str) -> None:
    call_id = _call(flow, lang, now)
    flow.dispatch(
        p.StepRequest(
            call_id=call_id, step_id="step-1", kind=kind, document_id="doc-1", params=dict(params)
        )
    )


def scenes(lang: str, now: datetime) -> list[Scene]:
    """Every screen in ``lang``, in the order a visit meets them."""

    def preview(flow: Flow, folder: Path) -> None:
        flow.session.step_preview = flow.session.keep_file(sample_page(folder / "page.png"))

    def closed(flow: Flow, _folder: Path) -> None:
        _consent(flow, lang)
        flow.dispatch(AnswerConsent(recording=False))
        call_id = flow.session.call_id
        assert call_id is not None
        # Half past eight tomorrow, on the town's clock.
        local = (now + timedelta(days=1)).astimezone(ZoneInfo("Europe/Madrid"))
        opens = local.replace(hour=8, minute=30, second=0, microsecond=0)
        flow.dispatch(p.ServiceClosed(call_id=call_id, opens_at=opens))

    def sign(flow: Flow, folder: Path) -> None:
        _step(flow, lang, now, "sign")
        preview(flow, folder)

    def info(flow: Flow, folder: Path) -> None:
        _step(flow, lang, now, "show_info")
        preview(flow, folder)

    def survey(flow: Flow, _folder: Path) -> None:
        _call(flow, lang, now)
        flow.dispatch(HangUp())

    def goodbye(flow: Flow, folder: Path) -> None:
        survey(flow, folder)
        flow.dispatch(AnswerSurvey(satisfaction=5))

    def out_of_service(flow: Flow, _folder: Path) -> None:
        _language(flow, lang)
        flow.dispatch(HubLink(online=False))

    def technician(flow: Flow, _folder: Path) -> None:
        flow.dispatch(TechnicianGesture())
        flow.dispatch(EnterPin(TOUR_PIN))

    def nothing(_flow: Flow, _folder: Path) -> None:
        pass

    def language(flow: Flow, _folder: Path) -> None:
        flow.dispatch(TouchScreen())

    def home(flow: Flow, _folder: Path) -> None:
        _language(flow, lang)

    def entry(choice: HomeEntry) -> Callable[[Flow, Path], None]:
        def reach(flow: Flow, _folder: Path) -> None:
            _language(flow, lang)
            flow.dispatch(ChooseEntry(choice))

        return reach

    def consent(flow: Flow, _folder: Path) -> None:
        _consent(flow, lang)

    def queue(flow: Flow, _folder: Path) -> None:
        _queue(flow, lang, now)

    def call(flow: Flow, _folder: Path) -> None:
        _call(flow, lang, now)

    def step(kind: p.StepKind) -> Callable[[Flow, Path], None]:
        def reach(flow: Flow, _folder: Path) -> None:
            _step(flow, lang, now, kind)

        return reach

    return [
        Scene("attract", nothing),
        Scene("language", language),
        Scene("home", home),
        Scene("topic", entry(HomeEntry.TALK_TO_AGENT)),
        Scene("consent", consent),
        Scene("queue", queue),
        Scene("closed", closed),
        Scene("call", call),
        Scene("step_scan", step("scan")),
        Scene("step_print", step("print_a4")),
        Scene("step_sign", sign),
        Scene("step_info", info),
        Scene("survey", survey),
        Scene("goodbye", goodbye),
        Scene("information", entry(HomeEntry.INFORMATION)),
        Scene("complaint", entry(HomeEntry.COMPLAINT)),
        Scene("out_of_service", out_of_service),
        Scene("technician", technician),
        Scene("inactivity", home, warning=True),
        *(Scene(name, reach) for name, reach in padron_scenes(lang, now, sample_page)),
        *(Scene(name, reach) for name, reach in appointment_scenes(lang, now)),
    ]


def sample_person(
    width: int,
    height: int,
    *,
    shirt: tuple[int, int, int],
    wall: tuple[int, int, int],
    seed: int = 0,
) -> npt.NDArray[np.uint8]:
    """A drawn head-and-shoulders picture as a BGR frame: a stand-in for a camera's video."""
    picture = Image.new("RGB", (width, height), wall)
    draw = ImageDraw.Draw(picture)
    for i in range(6):
        x = (seed * 37 + i * width // 6) % width
        draw.rectangle((x, 0, x + width // 14, height), fill=tuple(min(255, c + 12) for c in wall))
    cx = width // 2
    head = height // 5
    draw.ellipse(
        (cx - int(head * 2.2), int(height * 0.62), cx + int(head * 2.2), height + head * 2),
        fill=shirt,
    )
    draw.rectangle(
        (cx - head // 3, int(height * 0.5), cx + head // 3, int(height * 0.66)),
        fill=(224, 172, 140),
    )
    draw.ellipse(
        (cx - head, int(height * 0.2), cx + head, int(height * 0.2) + int(head * 2.3)),
        fill=(234, 186, 152),
    )
    draw.chord(
        (cx - head - 6, int(height * 0.16), cx + head + 6, int(height * 0.16) + head * 2),
        180,
        360,
        fill=(70, 45, 30),
    )
    rgb = np.asarray(picture, dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def sample_qr_frame(width: int, height: int) -> npt.NDArray[np.uint8]:
    """A camera frame (BGR) of a receipt's QR code held up to the camera, on a grey wall."""
    import qrcode

    code = qrcode.make("https://cabina.example.org/cita/g/" + "x" * 43).get_image()
    side = height * 3 // 4
    picture = np.asarray(code.convert("RGB").resize((side, side)), dtype=np.uint8)
    frame = np.full((height, width, 3), 150, dtype=np.uint8)
    top, left = (height - side) // 2, (width - side) // 2
    frame[top : top + side, left : left + side] = picture[:, :, ::-1]
    return frame
