"""Serving the console: MIME types, security headers, redirects, and nothing but its files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from agent_console import static_dir
from hub.routes import console
from hub.server import BackgroundHub
from hub.settings import HubSettings


@pytest.fixture
def serve(make_settings: Callable[..., HubSettings]) -> Iterator[Callable[[FastAPI], httpx.Client]]:
    """Serve an app on a loopback port; a client of it that does not follow redirects."""
    running: list[tuple[BackgroundHub, httpx.Client]] = []

    def start(app: FastAPI) -> httpx.Client:
        hub = BackgroundHub(make_settings(), app).start()
        client = httpx.Client(base_url=hub.url, timeout=30)
        running.append((hub, client))
        return client

    yield start
    for hub, client in running:
        client.close()
        hub.stop()


@pytest.fixture
def client(serve: Callable[[FastAPI], httpx.Client]) -> httpx.Client:
    """A client of an app with only the console's routes."""
    app = FastAPI()
    app.include_router(console.build_router())
    return serve(app)


def test_root_and_bare_path_lead_to_the_console(client: httpx.Client) -> None:
    assert client.get("/").headers["location"] == "/console/"
    response = client.get("/console")
    assert response.status_code == 308
    assert response.headers["location"] == "/console/"


@pytest.mark.parametrize(
    ("path", "mime"),
    [
        ("/console/", "text/html; charset=utf-8"),
        ("/console/index.html", "text/html; charset=utf-8"),
        ("/console/js/main.js", "text/javascript; charset=utf-8"),
        ("/console/js/components/desk.js", "text/javascript; charset=utf-8"),
        ("/console/css/console.css", "text/css; charset=utf-8"),
        ("/console/i18n/eu.json", "application/json"),
        ("/console/sounds/ring.wav", "audio/wav"),
        ("/console/icon.svg", "image/svg+xml"),
    ],
)
def test_files_have_their_exact_type_and_the_security_headers(
    client: httpx.Client, path: str, mime: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == mime
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "require-trusted-types-for 'script'" in csp
    assert "frame-ancestors 'none'" in csp


def test_index_is_the_file_on_disk(client: httpx.Client) -> None:
    assert client.get("/console/").content == (static_dir() / "index.html").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/console/../hub/app.py",
        "/console/%2e%2e/%2e%2e/pyproject.toml",
        "/console/js/../../__init__.py",
        "/console/__init__.py",
        "/console/sounds.py",
        "/console/js/missing.js",
        "/console/js/",
        "/console/.hidden.js",
        "/console//etc/passwd.json",
        "/console/i18n/../../../../etc/hostname.json",
    ],
)
def test_anything_but_a_console_file_is_not_found(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b"import" not in response.content


def test_a_file_outside_through_a_symlink_is_not_served(
    tmp_path: Path, serve: Callable[[FastAPI], httpx.Client]
) -> None:
    root = tmp_path / "static"
    root.mkdir()
    (tmp_path / "secret.json").write_text('{"secret": true}')
    (root / "link.json").symlink_to(tmp_path / "secret.json")
    (root / "index.html").write_text("<!doctype html>")
    app = FastAPI()
    app.include_router(console.build_router(root))
    client = serve(app)
    assert client.get("/console/").status_code == 200
    assert client.get("/console/link.json").status_code == 404


def test_unchanged_files_are_revalidated_not_resent(client: httpx.Client) -> None:
    first = client.get("/console/js/main.js")
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/console/js/main.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    stale = client.get("/console/js/main.js", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200


def test_head_gives_the_length_without_the_body(client: httpx.Client) -> None:
    response = client.head("/console/sounds/ring.wav")
    assert response.status_code == 200
    assert (
        int(response.headers["content-length"]) == (static_dir() / "sounds/ring.wav").stat().st_size
    )
    assert response.content == b""


def test_writes_are_refused(client: httpx.Client) -> None:
    assert client.post("/console/index.html").status_code == 405
