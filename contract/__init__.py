"""What every side of Cabina speaks, written once: the bottom floor, on pydantic alone.

::

    contract
    ├── languages   the languages a citizen and the console can use
    ├── signalling  the WebSocket messages between cabins, consoles and the hub; close codes
    ├── events      attention and audit event kinds, ``NewEvent``, actors, canonical JSON
    ├── cabin       the configuration a hub gives an enrolled cabin, and the settings it may push
    ├── identity    DNI/NIE and date-of-birth parsing, with a reason for each refusal
    ├── discovery   how a cabin finds and trusts a hub: service type, identity, fingerprints
    └── clock       the one clock type every side passes in

The hub, the kiosk, provisioning and the browser clients import these (the console through
``agent_console/static/js/contract.js``, generated from here); nothing here imports them.
"""
