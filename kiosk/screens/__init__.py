"""The kiosk's touchscreen: Kivy screens that show :mod:`kiosk.flow` and forward touches to it.

Import :mod:`kiosk.screens.display` and call its ``prepare_kivy`` before anything else here:
the other modules import Kivy, which reads its settings once. ::

    display.py          the window: size, density, the offscreen driver (imports no Kivy)
    app.py              KioskApp: shows the flow's state, forwards touches, hands on commands
    root.py, root.kv    the window's layout: top bar, the screens, the inactivity warning
    base.py             KioskScreen, what every screen shares
    <screen>.py, .kv    one screen per flow state: attract, language, home, topic, consent,
                        queue, call, step_*, survey, goodbye, padron_*, technician, …
    widgets.py, .kv     the building blocks: big buttons, toggles, headings, cards
    icons.py            pictograms drawn on the canvas
    signature_pad.py    the pad the citizen signs on
    video.py            a picture refreshed from camera or call frames
    padron_keypad.py    the padrón screens' keypads
    theme.py            the live look the .kv rules bind to, over palette.py's colours
    texts_ui.py         the screens' own words (``kiosk_ui`` domain, catalogs in locale/);
                        padron_texts.py says the padrón's problems in them
    frames.py           next_frame(): wait until Kivy has drawn
"""
