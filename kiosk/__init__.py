"""The cabin's touchscreen app: citizen flows, the call to an agent, the link to the hub.

::

    flow/               the citizen's path: a state machine with no window and no I/O
    screens/            the Kivy screens that show the flow and forward touches to it
    effects/            what runs the devices and talks to the hub on the flow's commands
    steps/              the device work of the steps an agent asks for
    runtime.py          putting the kiosk together: settings, devices, effects, the app
    cli.py              ``cabina kiosk`` and ``cabina screenshots``
    devtools/           driving, testing and picturing the kiosk; no part of a cabin's app
"""
