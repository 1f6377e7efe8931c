"""The central hub: signalling, call routing, the attention log, devices and enrolment."""
