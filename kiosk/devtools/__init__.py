"""Driving, testing and picturing the kiosk: tools that are no part of a cabin's app.

Nothing the cabin runs imports this package (``tests/kiosk/test_layout_of_the_kiosk.py``
checks it); ``cabina screenshots`` (:mod:`kiosk.cli`) imports it when it is run. ::

    driver.py           UiDriver: real touches through Kivy's input path; run_app()
    kit.py              kiosk_app(): the real app and command runner, ready to drive
    testing.py          run_in_kivy(): a scenario in a Kivy process of its own
    tour.py             the flow events that lead to every screen, with sample data;
                        padron_tour.py, those of the padrón's screens
    screenshots.py      every screen to PNG, in every language and orientation
    layout_check.py     what a citizen would see: nothing cut off, every target big enough
"""
