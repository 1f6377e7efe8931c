"""What runs the devices and talks to the hub when the flow asks for it.

The flow (:mod:`kiosk.flow`) only decides: it answers each event with commands. The
:class:`~kiosk.effects.runner.CommandRunner` hands each command to the part that carries it
out, and what comes of it goes back to the flow as an event. ::

    runner.py           CommandRunner and Parts: each command to the part that does it
    hub_client.py       the cabin's WebSocket to the hub: reconnects, keeps the citizen's place
    outbox.py           the durable outbox of attention events, and its sender to the hub
    call.py             the video call with the agent (aiortc); encoding.py, its codec
    padron.py           the padrón commands: the hub's padrón API (padron_client.py), the
                        certificate's preview, the printers
    appointments.py     the appointment commands: the hub's appointment API
                        (appointments_client.py), the appointment's ticket, the QR watch
    office.py           the office's address and opening hours, from the hub
    presence.py         the camera's watch that wakes the attract screen

The device work of an agent's steps (scan, print, sign) is :mod:`kiosk.steps`.
"""
