"""``cabina`` with the provisioning commands, in a process of its own, as the installed command.

Run as ``python tests/provisioning/cabina_cli.py provision …``.
"""

from __future__ import annotations

import sys

from cabina import cli

if "provisioning.cli" not in cli.COMMAND_MODULES:
    cli.COMMAND_MODULES = (*cli.COMMAND_MODULES, "provisioning.cli")

sys.exit(cli.main())
