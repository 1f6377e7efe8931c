"""Cabina: open-source software for municipal citizen-attention cabins."""

__version__ = "0.1.0"
