"""Who may call each route of the hub: the one table `test_authorization_matrix.py` checks.

A key is ``(method, path)`` as the app declares the route; the WebSocket endpoints are listed
with the method ``WEBSOCKET``. A value is the set of callers that get through:

- ``anonymous``: no credential at all;
- ``cabin``: an enrolled cabin's bearer credential;
- ``agent``, ``supervisor``, ``admin``, ``technician``: a signed-in person of that
  :class:`hub.roles.Role`.

Every caller not in the set is refused: 401 without a credential the route accepts, 403 with
one but the wrong role. Where access also depends on the resource (the agent who answered an
attention, the cabin and agent of a call, the cabin or agent that asked for a certificate) the
set names the role, and the test calls as the cabin and agent of the resource.
"""

from __future__ import annotations

from hub.roles import Role

ANONYMOUS = "anonymous"
CABIN = "cabin"
AGENT = Role.AGENT.value
SUPERVISOR = Role.SUPERVISOR.value
ADMIN = Role.ADMIN.value
TECHNICIAN = Role.TECHNICIAN.value

#: Every caller, in the order the test reports them.
CALLERS: tuple[str, ...] = (ANONYMOUS, CABIN, *(role.value for role in Role))

PUBLIC = frozenset(CALLERS)
NOBODY: frozenset[str] = frozenset()
SIGNED_IN = frozenset(role.value for role in Role)
ADMINS = frozenset({ADMIN})
SUPERVISORS = frozenset({SUPERVISOR, ADMIN})
TECHNICIANS = frozenset({TECHNICIAN, ADMIN})
#: Everyone on the staff but agents, who see only what they serve.
OFFICE = frozenset({SUPERVISOR, ADMIN, TECHNICIAN})
CABINS = frozenset({CABIN})
CALL_PARTIES = frozenset({CABIN, AGENT})
#: Who talks to citizens: agents take calls, and so may supervisors.
CALL_TAKERS = frozenset({AGENT, SUPERVISOR})
#: Who books appointments for citizens in the console.
BOOKERS = frozenset({AGENT, SUPERVISOR, ADMIN})

MATRIX: dict[tuple[str, str], frozenset[str]] = {
    # The API's description and its documentation pages describe no one's data.
    ("GET", "/openapi.json"): PUBLIC,
    ("HEAD", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("HEAD", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("HEAD", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("HEAD", "/redoc"): PUBLIC,
    # Signing in and out.
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): SIGNED_IN,
    ("GET", "/api/me"): SIGNED_IN,
    # Staff accounts.
    ("GET", "/api/users"): ADMINS,
    ("POST", "/api/users"): ADMINS,
    ("GET", "/api/users/{user_id}"): ADMINS,
    ("PATCH", "/api/users/{user_id}"): ADMINS,
    ("DELETE", "/api/users/{user_id}"): ADMINS,
    # Sites: everyone signed in reads them (the console shows where cabins stand).
    ("GET", "/api/sites"): SIGNED_IN,
    ("POST", "/api/sites"): ADMINS,
    ("GET", "/api/sites/{site_id}"): SIGNED_IN,
    ("PATCH", "/api/sites/{site_id}"): ADMINS,
    ("DELETE", "/api/sites/{site_id}"): ADMINS,
    # Cabins and their credentials.
    ("GET", "/api/cabins"): OFFICE,
    ("POST", "/api/cabins"): ADMINS,
    ("GET", "/api/cabins/{cabin_id}"): OFFICE,
    ("PATCH", "/api/cabins/{cabin_id}"): ADMINS,
    ("POST", "/api/cabins/{cabin_id}/revoke"): ADMINS,
    ("POST", "/api/cabins/{cabin_id}/credentials"): ADMINS,
    # Attentions: cabins upload their events; supervisors read them all, an agent those
    # they answered, and only that agent closes one.
    ("POST", "/api/cabin/events"): CABINS,
    ("GET", "/api/attentions"): SUPERVISORS,
    ("GET", "/api/attentions/{attention_id}"): frozenset({AGENT, SUPERVISOR, ADMIN}),
    ("POST", "/api/attentions/{attention_id}/close"): frozenset({AGENT}),
    ("GET", "/api/attentions.csv"): SUPERVISORS,
    ("GET", "/api/supervisor/overview"): SUPERVISORS,
    ("GET", "/api/supervisor/appointments"): SUPERVISORS,
    # An agent's calendar feed: its unguessable token is the credential.
    ("GET", "/cita/agenda/{token}.ics"): PUBLIC,
    # The catalogue: the console's wrap-up and the cabin's menu.
    ("GET", "/api/catalog"): PUBLIC - {ANONYMOUS},
    # A live call: its two parties only. The citizen's history is for the agent alone.
    ("POST", "/api/calls/{call_id}/identity"): CALL_PARTIES,
    ("GET", "/api/calls/{call_id}/citizen"): frozenset({AGENT}),
    ("POST", "/api/calls/{call_id}/documents"): CALL_PARTIES,
    # Only the cabin sends its scans, and so only it has the hub join a feeder batch's sheets.
    ("POST", "/api/calls/{call_id}/documents/batch"): CABINS,
    ("GET", "/api/documents/{document_id}"): CALL_PARTIES,
    # The padrón: a cabin in its own attention, an agent in the one they serve.
    ("POST", "/api/padron/identify"): CALL_PARTIES,
    ("POST", "/api/padron/identify/confirm"): CALL_PARTIES,
    ("POST", "/api/padron/certificates"): CALL_PARTIES,
    ("GET", "/api/padron/certificates/{certificate_id}.pdf"): CALL_PARTIES,
    ("POST", "/api/padron/certificates/{certificate_id}/revoke"): SUPERVISORS,
    # The verification page is printed on every certificate: anyone may check one.
    ("GET", "/verify"): PUBLIC,
    ("GET", "/verify/{code}"): PUBLIC,
    ("GET", "/verify/{code}/pdf"): PUBLIC,
    # The console's files hold no data: signing in happens inside it.
    ("GET", "/"): PUBLIC,
    ("GET", "/console"): PUBLIC,
    ("GET", "/console/{path:path}"): PUBLIC,
    ("HEAD", "/console/{path:path}"): PUBLIC,
    # What an enrolled cabin calls. A cabin checks the hub's identity before trusting it.
    ("GET", "/api/hub"): PUBLIC,
    ("GET", "/api/cabin/config"): CABINS,
    ("POST", "/api/cabin/status"): CABINS,
    ("POST", "/api/cabin/selftest"): CABINS,
    ("POST", "/api/cabin/actions/{action_id}/result"): CABINS,
    ("PUT", "/api/cabin/actions/{action_id}/screenshot"): CABINS,
    # Enrolment: a new cabin asks with no credential yet; a technician approves it on site.
    ("POST", "/api/enrolment/requests"): PUBLIC,
    # Only the machine that asked, with its request's polling token: none of the callers
    # here. A token that is not the request's is answered as an unknown request (404).
    ("GET", "/api/enrolment/requests/{request_id}"): NOBODY,
    ("GET", "/api/enrolment/requests"): TECHNICIANS,
    ("DELETE", "/api/enrolment/requests/{request_id}"): TECHNICIANS,
    ("POST", "/api/enrolment/approvals"): TECHNICIANS,
    # The fleet: technicians look after cabins from afar.
    ("GET", "/api/fleet/alerts"): TECHNICIANS,
    ("GET", "/api/fleet/cabins"): TECHNICIANS,
    ("GET", "/api/fleet/cabins/{cabin_id}"): TECHNICIANS,
    ("PUT", "/api/fleet/cabins/{cabin_id}/settings"): TECHNICIANS,
    ("POST", "/api/fleet/cabins/{cabin_id}/actions"): TECHNICIANS,
    ("GET", "/api/fleet/cabins/{cabin_id}/actions"): TECHNICIANS,
    ("GET", "/api/fleet/actions/{action_id}"): TECHNICIANS,
    ("GET", "/api/fleet/actions/{action_id}/screenshot"): TECHNICIANS,
    ("POST", "/api/fleet/cabins/{cabin_id}/revoke"): TECHNICIANS,
    # Appointments. The web page books and manages with no credential: a management link's
    # unguessable token is the credential (wrong ones are rate-limited per address).
    ("GET", "/api/appointments/offers"): PUBLIC,
    ("GET", "/api/appointments/offers/{offer_id}/availability"): PUBLIC,
    ("POST", "/api/appointments"): PUBLIC,
    ("GET", "/api/appointments/manage/{token}"): PUBLIC,
    ("POST", "/api/appointments/manage/{token}/move"): PUBLIC,
    ("POST", "/api/appointments/manage/{token}/cancel"): PUBLIC,
    # The public pages of the same (/cita): no credential, no cookie; they ignore any sent.
    ("GET", "/cita"): PUBLIC,
    ("POST", "/cita"): PUBLIC,
    ("GET", "/cita/static/cita.css"): PUBLIC,
    ("GET", "/cita/g/{token}"): PUBLIC,
    ("POST", "/cita/g/{token}"): PUBLIC,
    ("POST", "/cita/g/{token}/documents"): PUBLIC,
    ("POST", "/cita/g/{token}/documents/{document_id}/remove"): PUBLIC,
    # The citizen's video call page and its files: the page shows no personal data.
    ("GET", "/cita/v/{token}"): PUBLIC,
    ("GET", "/cita/v/static/{name}"): PUBLIC,
    # A video visit from home: the link's token and a one-time code sent to the appointment's
    # contacts identify the citizen; the visit's cookie then carries it, and no caller here
    # has one (tests/hub/test_web_visits.py goes through with it).
    ("GET", "/api/web/ping"): PUBLIC,
    ("POST", "/api/web/visits/{token}/code"): PUBLIC,
    ("POST", "/api/web/visits/{token}/identify"): PUBLIC,
    ("GET", "/api/web/visits/current"): NOBODY,
    ("POST", "/api/web/visits/current/survey"): NOBODY,
    ("POST", "/api/web/visits/current/leave"): NOBODY,
    # A cabin books at its own site and checks in the citizen in front of it.
    ("GET", "/api/cabin/appointments/offers"): CABINS,
    ("GET", "/api/cabin/appointments/offers/{offer_id}/availability"): CABINS,
    ("POST", "/api/cabin/appointments"): CABINS,
    ("POST", "/api/cabin/appointments/check-in"): CABINS,
    ("GET", "/api/cabin/appointments/next-slot"): CABINS,
    # Staff who serve citizens book for them; an agent sees their own agenda.
    ("GET", "/api/console/appointments/offers"): BOOKERS,
    ("GET", "/api/console/appointments/offers/{offer_id}/availability"): BOOKERS,
    ("POST", "/api/console/appointments"): BOOKERS,
    ("GET", "/api/console/appointments/agenda"): BOOKERS,
    # An in-person citizen arrived at the desk: their agent (the agent's own only) or anyone's.
    ("POST", "/api/console/appointments/{appointment_id}/arrived"): BOOKERS,
    ("GET", "/api/console/appointments/feed-url"): BOOKERS,
    # What a citizen sent ahead: the agent it is booked with (or serving it), or anyone's.
    ("GET", "/api/console/appointments/{appointment_id}/documents"): BOOKERS,
    ("GET", "/api/console/appointments/{appointment_id}/documents/{document_id}"): BOOKERS,
    # The calendar's set-up: offers, agents' shifts, closed stretches.
    ("GET", "/api/appointment-offers"): SUPERVISORS,
    ("POST", "/api/appointment-offers"): SUPERVISORS,
    ("DELETE", "/api/appointment-offers/{offer_id}"): SUPERVISORS,
    ("GET", "/api/agent-shifts"): SUPERVISORS,
    ("POST", "/api/agent-shifts"): SUPERVISORS,
    ("DELETE", "/api/agent-shifts/{shift_id}"): SUPERVISORS,
    ("GET", "/api/calendar-blocks"): SUPERVISORS,
    ("POST", "/api/calendar-blocks"): SUPERVISORS,
    ("DELETE", "/api/calendar-blocks/{block_id}"): SUPERVISORS,
    # Signalling.
    ("WEBSOCKET", "/ws/cabin"): CABINS,
    ("WEBSOCKET", "/ws/agent"): CALL_TAKERS,
    ("WEBSOCKET", "/ws/citizen"): NOBODY,
}

#: Routes that answer a refused caller 404 rather than 401/403, and why.
DENIED_AS_NOT_FOUND: dict[tuple[str, str], str] = {
    ("GET", "/api/enrolment/requests/{request_id}"): (
        "a polling token is paired with its request: a wrong one names no request"
    ),
}

#: What a call let in writes to the hash-chained log, for every route that changes something
#: and every route that reads a citizen's personal data (their history, documents,
#: certificates, attention records, exports, a cabin's screenshot): the event kind expected.
AUDITED: dict[tuple[str, str], str | frozenset[str]] = {
    ("POST", "/api/auth/login"): "audit.login",
    ("POST", "/api/users"): "audit.user_created",
    ("PATCH", "/api/users/{user_id}"): "audit.user_changed",
    ("DELETE", "/api/users/{user_id}"): "audit.user_changed",
    ("POST", "/api/sites"): "audit.site_created",
    ("PATCH", "/api/sites/{site_id}"): "audit.site_changed",
    ("DELETE", "/api/sites/{site_id}"): "audit.site_deleted",
    ("POST", "/api/cabins"): "audit.cabin_created",
    ("PATCH", "/api/cabins/{cabin_id}"): "audit.cabin_changed",
    ("POST", "/api/cabins/{cabin_id}/revoke"): "audit.credential_revoked",
    ("POST", "/api/cabins/{cabin_id}/credentials"): "audit.credential_issued",
    ("POST", "/api/cabin/events"): "attention.started",
    ("POST", "/api/attentions/{attention_id}/close"): "attention.closed",
    ("GET", "/api/attentions/{attention_id}"): "audit.record_read",
    ("GET", "/api/attentions.csv"): "audit.export",
    ("POST", "/api/calls/{call_id}/identity"): "audit.identification",
    ("GET", "/api/calls/{call_id}/citizen"): "audit.record_read",
    # The cabin uploads a scan; the agent sends a document to print.
    ("POST", "/api/calls/{call_id}/documents"): frozenset(
        {"document.scanned", "audit.document_sent"}
    ),
    ("POST", "/api/calls/{call_id}/documents/batch"): "document.scanned",
    ("GET", "/api/documents/{document_id}"): "audit.record_read",
    ("POST", "/api/padron/identify"): "audit.identification",
    ("POST", "/api/padron/certificates"): "certificate.issued",
    ("GET", "/api/padron/certificates/{certificate_id}.pdf"): "audit.record_read",
    ("POST", "/api/padron/certificates/{certificate_id}/revoke"): "audit.certificate_revoked",
    ("DELETE", "/api/enrolment/requests/{request_id}"): "audit.enrolment_refused",
    ("POST", "/api/enrolment/approvals"): "audit.cabin_created",
    ("PUT", "/api/fleet/cabins/{cabin_id}/settings"): "audit.cabin_settings_changed",
    ("POST", "/api/fleet/cabins/{cabin_id}/actions"): "audit.remote_action",
    ("GET", "/api/fleet/actions/{action_id}/screenshot"): "audit.record_read",
    ("POST", "/api/fleet/cabins/{cabin_id}/revoke"): "audit.credential_revoked",
    ("POST", "/api/appointments"): "appointment.booked",
    ("POST", "/api/appointments/manage/{token}/move"): "appointment.moved",
    ("POST", "/api/appointments/manage/{token}/cancel"): "appointment.cancelled",
    ("POST", "/cita"): "appointment.booked",
    ("POST", "/cita/g/{token}"): "appointment.cancelled",
    ("POST", "/cita/g/{token}/documents"): "appointment.document_added",
    ("POST", "/cita/g/{token}/documents/{document_id}/remove"): "appointment.document_removed",
    ("GET", "/api/console/appointments/{appointment_id}/documents"): "audit.record_read",
    ("GET", "/api/console/appointments/{appointment_id}/documents/{document_id}"): (
        "audit.record_read"
    ),
    ("POST", "/api/cabin/appointments"): "appointment.booked",
    ("POST", "/api/cabin/appointments/check-in"): "appointment.checked_in",
    ("POST", "/api/console/appointments"): "appointment.booked",
    ("POST", "/api/console/appointments/{appointment_id}/arrived"): "appointment.checked_in",
    ("POST", "/api/web/visits/{token}/identify"): "audit.identification",
    ("POST", "/api/appointment-offers"): "audit.calendar_changed",
    ("DELETE", "/api/appointment-offers/{offer_id}"): "audit.calendar_changed",
    ("POST", "/api/agent-shifts"): "audit.calendar_changed",
    ("DELETE", "/api/agent-shifts/{shift_id}"): "audit.calendar_changed",
    ("POST", "/api/calendar-blocks"): "audit.calendar_changed",
    ("DELETE", "/api/calendar-blocks/{block_id}"): "audit.calendar_changed",
}

#: Audited routes whose event the matrix's world cannot provoke, and the test that proves it.
AUDITED_ELSEWHERE: dict[tuple[str, str], str] = {
    ("POST", "/api/web/visits/current/survey"): (
        "no caller here has a visit's cookie; tests/hub/test_web_visits.py checks survey.answered"
    ),
    ("POST", "/api/web/visits/current/leave"): (
        "no caller here has a visit's cookie; tests/hub/test_web_visits.py checks attention.ended"
    ),
    ("POST", "/api/padron/identify/confirm"): (
        "the world's residents need no code, so confirming changes nothing; "
        "tests/padron/test_confirmation_api.py checks audit.identification for each code"
    ),
}

#: Routes that change something but write no event of their own, and why.
NOT_AUDITED: dict[tuple[str, str], str | frozenset[str]] = {
    ("POST", "/api/web/visits/{token}/code"): (
        "sends a code to the appointment's own contacts; its every use is audit.identification"
    ),
    ("POST", "/api/auth/logout"): "ends the caller's own session, which is kept with its token",
    ("POST", "/api/cabin/status"): "a cabin's own health report, kept as its latest status",
    ("POST", "/api/cabin/selftest"): "a cabin's own self-test, kept as its latest result",
    ("POST", "/api/cabin/actions/{action_id}/result"): (
        "the cabin's answer to a remote action, kept with the action, whose request is audited"
    ),
    ("PUT", "/api/cabin/actions/{action_id}/screenshot"): (
        "the cabin's answer to a screenshot action, whose request and every read are audited"
    ),
    ("POST", "/api/enrolment/requests"): (
        "a machine asking to join changes nothing until a technician approves it (audited)"
    ),
}
