"""How often one address may book without signing in: the public page and the public API.

Anyone may book, so one client could fill a day's slots or send receipts to strangers. Each
address may make ``settings.appointments.max_web_bookings`` bookings an hour; past that, the
answer is ``too_many_attempts`` until the hour has passed. Cabins and staff are not counted.
"""

from __future__ import annotations

from starlette.requests import Request

from hub.appointments.service import AppointmentRefused
from hub.ratelimit import RateLimited, RateLimiter

_KEY = "appointment-booking"


def address_of(request: Request) -> str:
    """The address a request came from."""
    return request.client.host if request.client else "unknown"


def check_booking(limiter: RateLimiter, address: str) -> None:
    """``too_many_attempts`` if the address has booked its share this hour."""
    try:
        limiter.check(_KEY, address)
    except RateLimited:
        raise AppointmentRefused(
            "too_many_attempts", "Expected fewer bookings from one address in an hour"
        ) from None


def record_booking(limiter: RateLimiter, address: str) -> None:
    """Count one booking made from the address."""
    limiter.record(_KEY, address)
