"""Trusting a hub: the presented certificate against the announced fingerprint, then pinned."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from contract.discovery import fingerprint_pem
from provisioning.errors import CertificateMismatch, HubUnreachable, NotCabinaHub
from provisioning.pinning import HubEndpoint, check_identity, trust_hub


class _Answer(http.server.BaseHTTPRequestHandler):
    status = 404
    body = b"not here"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[Callable[[int, bytes], str]]:
    """Serve some other web application on a loopback port."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def serve(status: int, body: bytes) -> str:
        handler = type("Handler", (_Answer,), {"status": status, "body": body})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_announced_fingerprint_is_checked_and_the_certificate_pinned(
    start_hub: Callable[..., Any],
) -> None:
    hub = start_hub(tls=True)
    fingerprint = fingerprint_pem(hub.certificate.pem)
    endpoint = trust_hub(hub.url, fingerprint.upper().replace("SHA256:", ""))
    assert endpoint.fingerprint == fingerprint
    assert endpoint.ws_url == hub.url.replace("https", "wss") + "/ws/cabin"
    assert check_identity(endpoint).public_url == hub.url


def test_a_wrong_fingerprint_enrols_nothing(
    start_hub: Callable[..., Any], make_cert: Callable[[str], Any]
) -> None:
    hub = start_hub(tls=True)
    impostor = fingerprint_pem(make_cert("impostor").pem)
    with pytest.raises(CertificateMismatch) as caught:
        trust_hub(hub.url, impostor)
    message = str(caught.value)
    assert impostor in message and fingerprint_pem(hub.certificate.pem) in message
    assert "enrol nothing" in message
    with hub.client() as client:
        assert client.get("/api/enrolment/requests", headers=hub.headers("admin")).json() == []


def test_a_self_signed_hub_without_fingerprint_is_not_trusted(
    start_hub: Callable[..., Any],
) -> None:
    hub = start_hub(tls=True)
    with pytest.raises(CertificateMismatch, match="pass the hub's fingerprint with --fingerprint"):
        trust_hub(hub.url, None)


def test_a_pinned_cabin_refuses_a_hub_with_another_certificate(
    start_hub: Callable[..., Any], make_cert: Callable[[str], Any]
) -> None:
    real = start_hub(tls=True)
    pinned = trust_hub(real.url, fingerprint_pem(real.certificate.pem))
    impostor = start_hub(cert=make_cert("impostor"))
    moved = HubEndpoint(impostor.url, pinned.certificate_pem)
    with pytest.raises(CertificateMismatch, match="presents another"):
        check_identity(moved)


def test_plain_http_has_nothing_to_pin_and_refuses_a_fingerprint(hub: Any) -> None:
    endpoint = trust_hub(hub.url, None)
    assert (endpoint.certificate_pem, endpoint.ssl_context()) == (None, None)
    assert check_identity(endpoint).version
    with pytest.raises(CertificateMismatch, match="is plain HTTP"):
        trust_hub(hub.url, "sha256:" + "00" * 32)


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (404, b"not here", "answered HTTP 404"),
        (200, b"<html>router login</html>", "answered HTTP 200"),
        (200, json.dumps({"service": "printer"}).encode(), "answered service 'printer'"),
        (200, b"[1, 2]", "JSON of another shape"),
    ],
)
def test_something_that_is_not_a_cabina_hub_is_named(
    other_server: Callable[[int, bytes], str], status: int, body: bytes, said: str
) -> None:
    url = other_server(status, body)
    with pytest.raises(NotCabinaHub, match=said):
        check_identity(trust_hub(url, None))


def test_nothing_listening_is_unreachable() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HubUnreachable, match=f"Cannot open a TLS connection to 127.0.0.1:{port}"):
        trust_hub(f"https://127.0.0.1:{port}", "sha256:" + "00" * 32)
    with pytest.raises(HubUnreachable, match="Cannot reach the hub"):
        check_identity(HubEndpoint(f"http://127.0.0.1:{port}"))


def test_bad_urls_and_fingerprints_are_refused(start_hub: Callable[..., Any]) -> None:
    with pytest.raises(HubUnreachable, match="Expected an http:// or https:// hub URL"):
        trust_hub("ftp://hub", None)
    hub = start_hub(tls=True)
    with pytest.raises(CertificateMismatch, match="Expected a SHA-256 fingerprint"):
        trust_hub(hub.url, "sha256:abc")
