"""Helpers shared by the tests: real clients of the hub."""
