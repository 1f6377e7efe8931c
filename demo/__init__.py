"""``cabina demo``, on top of every other floor: a hub and a simulated cabin in one command.

It is the only package that imports both the hub and the kiosk's tools, so that neither of them
has to know the other: a cabin installs without the hub, a hub without the kiosk.
"""
