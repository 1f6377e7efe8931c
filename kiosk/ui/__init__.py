"""The kiosk's touchscreen: Kivy screens that show :mod:`kiosk.flow` and forward touches to it.

Import :mod:`kiosk.ui.headless` and call its ``prepare_kivy`` before anything else here: the
other modules import Kivy, which reads its settings once.
"""
