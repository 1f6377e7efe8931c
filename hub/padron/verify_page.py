"""The HTML of the public verification page: a form to type a code, and the verdict on one.

Plain server-rendered HTML with no script and no external resources, readable on a phone
that has just scanned the QR code. Every value is escaped.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote
from zoneinfo import ZoneInfo

from hub.padron import texts
from hub.padron.csv_code import grouped
from hub.padron.verification import Verdict

#: Languages the page is offered in, in the order of its language links.
PAGE_LANGUAGES: tuple[str, ...] = ("es", "ca", "eu", "gl", "en")

_STYLE = """
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:0;color:#1a1a1a;
background:#f6f5f2;line-height:1.45}
main{max-width:38rem;margin:0 auto;padding:1.5rem 1rem 3rem}
header p{margin:0;color:#555}
h1{font-size:1.5rem;margin:.25rem 0 1rem}
.verdict{border-radius:.5rem;padding:1rem 1.25rem;margin:1rem 0;background:#fff;
border-left:.5rem solid #777}
.genuine{border-color:#1d7a3a}.revoked{border-color:#b3261e}.unknown,.mistyped{border-color:#a66b00}
.verdict h2{margin:0 0 .5rem;font-size:1.25rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.75rem 0 0}
dt{color:#555}dd{margin:0}
code{font-size:1.1rem;letter-spacing:.05em}
form{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}
label{flex-basis:100%}
input{flex:1;font-size:1.1rem;padding:.5rem;min-width:14rem;text-transform:uppercase}
button,.button{font-size:1rem;padding:.55rem 1rem;background:#1a1a1a;color:#fff;border:0;
border-radius:.35rem;text-decoration:none;display:inline-block}
nav{margin-top:2rem;font-size:.9rem}nav a{margin-right:.75rem;color:#1a1a1a}
"""


def _t(message: str, lang: str) -> str:
    return escape(texts.tr(message, lang))


def negotiate(query_lang: str | None, accept_language: str | None) -> str:
    """The page's language: ``?lang=`` if offered, else the best of Accept-Language, else es."""
    if query_lang in PAGE_LANGUAGES or query_lang == "ca@valencia":
        return query_lang
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in PAGE_LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else "es"


def _page(lang: str, council: str, body: str, *, path: str) -> str:
    links = " ".join(
        f'<a href="{escape(path)}?lang={quote(code)}" lang="{code}" hreflang="{code}">'
        f"{escape(texts.LANGUAGE_NAMES[code])}</a>"
        for code in PAGE_LANGUAGES
    )
    return (
        f'<!doctype html><html lang="{escape(lang.split("@")[0])}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{_t(texts.VERIFY_TITLE, lang)} — {escape(council)}</title><style>{_STYLE}</style>"
        f"</head><body><main><header><p>{escape(council)}</p>"
        f"<h1>{_t(texts.VERIFY_TITLE, lang)}</h1></header>{body}"
        f'<nav aria-label="{_t(texts.LANGUAGE, lang)}">{links}</nav></main></body></html>'
    )


def _form(lang: str, value: str = "") -> str:
    return (
        '<form method="get" action="/verify">'
        f'<label for="code">{_t(texts.VERIFY_INTRO, lang)}</label>'
        f'<input id="code" name="code" value="{escape(value)}" autocomplete="off" '
        f'autocapitalize="characters" spellcheck="false" required maxlength="64" '
        f'placeholder="XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX">'
        f'<input type="hidden" name="lang" value="{escape(lang)}">'
        f"<button>{_t(texts.VERIFY_BUTTON, lang)}</button></form>"
    )


def form_page(lang: str, council: str) -> str:
    """The page with the form to type a code."""
    return _page(lang, council, _form(lang), path="/verify")


def limited_page(lang: str, council: str) -> str:
    """The page shown to a client that checks too often."""
    message = escape(texts.tr(texts.TOO_MANY_CHECKS, lang))
    return _page(
        lang, council, f'<div class="verdict unknown"><p>{message}</p></div>', path="/verify"
    )


def verdict_page(lang: str, council: str, verdict: Verdict, *, typed: str, timezone: str) -> str:
    """The page with the verdict on a code."""
    zone = ZoneInfo(timezone)
    if verdict.status == "mistyped" or verdict.code is None:
        body = f'<div class="verdict mistyped"><h2>{_t(texts.UNKNOWN, lang)}</h2>'
        body += f"<p>{_t(texts.MISTYPED_TEXT, lang)}</p></div>" + _form(lang, typed)
        return _page(lang, council, body, path="/verify")
    code = verdict.code
    path = f"/verify/{code}"
    shown = f"<p><code>{escape(grouped(code))}</code></p>"
    if verdict.status == "unknown" or verdict.issued_at is None:
        body = f'<div class="verdict unknown"><h2>{_t(texts.UNKNOWN, lang)}</h2>{shown}'
        body += f"<p>{_t(texts.UNKNOWN_TEXT, lang)}</p></div>" + _form(lang)
        return _page(lang, council, body, path=path)
    issued = verdict.issued_at.astimezone(zone)
    facts = [
        (
            texts.ISSUED_ON,
            f"{texts.long_date(issued.date(), lang)}, {texts.clock_time(issued, lang)}",
        ),
        (texts.ISSUED_AT, verdict.site or council),
        (texts.KIND, texts.tr(texts.KIND_NAMES.get(verdict.kind or "", ""), lang)),
        (texts.HOLDER, verdict.holder_initials or ""),
        (texts.PEOPLE, str(verdict.people or 0)),
    ]
    listing = "".join(
        f"<dt>{_t(label, lang)}</dt><dd>{escape(value)}</dd>" for label, value in facts
    )
    if verdict.status == "revoked" and verdict.revoked_at is not None:
        revoked_on = texts.long_date(verdict.revoked_at.astimezone(zone).date(), lang)
        text = escape(texts.tr(texts.REVOKED_TEXT, lang).format(council=council, date=revoked_on))
        body = (
            f'<div class="verdict revoked"><h2>{_t(texts.REVOKED, lang)}</h2>{shown}<p>{text}</p>'
        )
        body += f"<dl>{listing}</dl></div>"
    else:
        text = escape(texts.tr(texts.GENUINE_TEXT, lang).format(council=council))
        body = (
            f'<div class="verdict genuine"><h2>{_t(texts.GENUINE, lang)}</h2>{shown}<p>{text}</p>'
        )
        body += f"<dl>{listing}</dl>"
        body += f'<p><a class="button" href="{escape(path)}/pdf">{_t(texts.DOWNLOAD, lang)}</a></p>'
        body += f"<p>{_t(texts.COMPARE, lang)}</p></div>"
    body += f'<p><a href="/verify?lang={quote(lang)}">{_t(texts.CHECK_ANOTHER, lang)}</a></p>'
    return _page(lang, council, body, path=path)
