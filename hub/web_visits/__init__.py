"""A citizen's video visit from home: the appointment's link, a one-time code, and a call."""
