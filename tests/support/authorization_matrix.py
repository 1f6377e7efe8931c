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
    # The catalogue: the console's wrap-up and the cabin's menu.
    ("GET", "/api/catalog"): PUBLIC - {ANONYMOUS},
    # A live call: its two parties only. The citizen's history is for the agent alone.
    ("POST", "/api/calls/{call_id}/identity"): CALL_PARTIES,
    ("GET", "/api/calls/{call_id}/citizen"): frozenset({AGENT}),
    ("POST", "/api/calls/{call_id}/documents"): CALL_PARTIES,
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
    # Signalling.
    ("WEBSOCKET", "/ws/cabin"): CABINS,
    ("WEBSOCKET", "/ws/agent"): CALL_TAKERS,
}

#: Routes that answer a refused caller 404 rather than 401/403, and why.
DENIED_AS_NOT_FOUND: dict[tuple[str, str], str] = {
    ("GET", "/api/enrolment/requests/{request_id}"): (
        "a polling token is paired with its request: a wrong one names no request"
    ),
}
