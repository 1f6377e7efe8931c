"""The guard that fails a test whose code logs personal data finds what it must, and only that,
in this process's records and in the log files of the processes a test starts."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from support.pii_guard import (
    PersonalDataGuard,
    leaks_in_files,
    log_files_under,
    masked,
    personal_data_in,
)
from support.process_logs import log_file, run

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("identified 12345678Z at the cabin", ["document"]),
        ("NIE X1234567L refused", ["document"]),
        ("sent to ana.prueba@example.org", ["email"]),
        ("SMS to +34 612 345 678", ["mobile"]),
        ("SMS to 612 345 678", ["mobile"]),
        ("SMS to +34612345678", ["mobile"]),
        ("12345678Z, ana@example.org, +34712345678", ["document", "email", "mobile"]),
    ],
)
def test_personal_data_is_found(text: str, kinds: list[str]) -> None:
    assert personal_data_in(text) == kinds


@pytest.mark.parametrize(
    "text",
    [
        "identified 12345678A at the cabin",  # a wrong control letter: not a document
        "attention 0b7e61f2-4c0d-4f57-9d7a-51c2a3f8e4b9 closed",
        "log seq 612345678 by hub",
        "listening on 127.0.0.1:61234",
        "document of 612345 bytes",
        "version 7.123.456.789",
        "Database('postgresql+psycopg://postgres@127.0.0.1:5432/cabina')",
    ],
)
def test_what_only_looks_like_it_is_not(text: str) -> None:
    assert personal_data_in(text) == []


def test_only_cabina_s_own_loggers_are_read_and_the_leak_keeps_its_kind() -> None:
    guard = PersonalDataGuard()
    for name in ("hub.example", "somelibrary"):
        # Kept from the session's own guard, which would fail this test.
        logging.getLogger(name).propagate = False
        logging.getLogger(name).addHandler(guard)
    try:
        logging.getLogger("somelibrary").warning("from %s", "ana@example.org")
        try:
            raise ValueError("bad 12345678Z")
        except ValueError:
            logging.getLogger("hub.example").exception("refused")
    finally:
        for name in ("hub.example", "somelibrary"):
            logging.getLogger(name).removeHandler(guard)
            logging.getLogger(name).propagate = True
    assert [(leak.logger, leak.kinds) for leak in guard.leaks] == [("hub.example", ("document",))]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("booked for Ana Prueba Ejemplo", ["name"]),
        ("booked for Łucja Przykładowa", ["name"]),
        ("appointment of Núria Casals Ferrer moved", ["name"]),
        ("lives at Passatge Fictici 9", ["address"]),
        ("lives at Adibide kalea 7", ["address"]),
    ],
)
def test_the_seeded_residents_names_and_streets_are_found(text: str, kinds: list[str]) -> None:
    assert personal_data_in(text) == kinds


@pytest.mark.parametrize(
    "text",
    [
        "Ana logged in",  # a first name alone is anyone's
        "Cabina Mercat ready at Oficina Centro",
        "Anabel Pruebas",
    ],
)
def test_names_are_looked_for_whole(text: str) -> None:
    assert personal_data_in(text) == []


def test_a_report_masks_what_it_found() -> None:
    text = "99990001P Ana Prueba ana.prueba@example.org +34600000001 Passatge Fictici, seq 7"
    assert masked(text) == "99… An… an… +3… Pa…, seq 7"


#: A hub process with logging set up as ``cabina --verbose`` does: it asks a padrón service
#: by document in the query, as the REST source does (httpx must not log that URL), and then
#: logs a resident's document itself.
LEAKY_HUB = """
import logging
import httpx
import cabina.cli
cabina.cli.COMMAND_MODULES = ()
cabina.cli.main(["--verbose"])
padron = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(404)))
padron.get("http://padron.example/api/habitantes", params={"dni": "99990002D"})
logging.getLogger("hub.padron").warning("refused %s at the cabin", "99990001P")
"""


def test_a_process_that_logs_a_seeded_document_into_its_log_file_is_caught(
    tmp_path: Path,
) -> None:
    log = log_file(tmp_path / "processes", "leaky-hub")
    done = run([sys.executable, "-c", LEAKY_HUB], log=log, cwd=REPO, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "99990001P" in log.read_text(encoding="utf-8")
    assert "99990002D" not in log.read_text(encoding="utf-8")
    try:
        leaks = leaks_in_files(log_files_under(tmp_path))
        assert [(leak.path, leak.kinds) for leak in leaks] == [(log, ("document",))]
        assert "99990001P" not in leaks[0].text and "99… at the cabin" in leaks[0].text
    finally:
        # What this test logged on purpose must not fail it through the session's guard.
        log.unlink()


def test_a_log_file_is_read_on_from_where_the_guard_left_it(tmp_path: Path) -> None:
    from conftest import LogFilesRead

    # Not a ``*.log``: the session's guard must not read this test's leaks itself.
    log = tmp_path / "hub.out"
    read = LogFilesRead(tmp_path)
    log.write_text("hub started\n", encoding="utf-8")
    assert read.new_leaks([log]) == []
    with log.open("a", encoding="utf-8") as fh:
        fh.write("refused 99990001P at the cabin\n")
    leaks = read.new_leaks([log, log])
    assert [(leak.line, leak.kinds) for leak in leaks] == [(2, ("document",))]
    # The same file goes on growing: the leak already reported is not reported again.
    with log.open("a", encoding="utf-8") as fh:
        fh.write("call answered\nrefused 9999")
    assert read.new_leaks([log]) == []
    # A line is read once it is whole, with its number in the file.
    with log.open("a", encoding="utf-8") as fh:
        fh.write("0002D at the cabin\n")
    assert [leak.line for leak in read.new_leaks([log])] == [4]
    # A file cut short (a process started anew over it) is read from its start.
    log.write_text("mail to ana.prueba@example.org\n", encoding="utf-8")
    assert [(leak.line, leak.kinds) for leak in read.new_leaks([log])] == [(1, ("email",))]
    # The session's last look reads a line no process will end.
    with log.open("a", encoding="utf-8") as fh:
        fh.write("refused 99990001P")
    assert read.new_leaks([log]) == []
    assert [leak.line for leak in read.new_leaks([log], to_end=True)] == [2]
