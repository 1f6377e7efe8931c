"""The cabin's devices: camera, scanner, printers and handset, each with a shipped simulator."""
