"""Enrolment: a cabin asks to join, a technician approves the code it shows, it collects.

::

    models    the enrolment requests table
    service   opening, approving, refusing and polling requests, with the audit events
    routes    /api/enrolment/… for cabins without a credential and for technicians

The profile an enrolled cabin gets is in :mod:`hub.fleet.models`; the configuration it then
pulls is served by :mod:`hub.routes.cabin_api`.
"""
