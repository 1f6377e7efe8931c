"""The fleet: every enrolled cabin's health, the remote actions sent to it, and its revocation.

::

    models       the cabin profiles and remote actions tables
    service      the live board of connected cabins, queued actions and their dispatcher
    alerts       what needs a technician now: silent cabins, devices in fault, paper or disk low
    capabilities what a cabin in a call can do now: its steps whose device is down
    revocation   revoking a cabin: its credentials, one audit event, its live connection
    routes       /api/fleet/… for technicians and admins
    alert_routes /api/fleet/alerts

What cabins report back over HTTP is served by :mod:`hub.routes.cabin_api`; enrolling a cabin
in the first place is :mod:`hub.enrolment`.
"""
