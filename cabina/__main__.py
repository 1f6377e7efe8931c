"""``python -m cabina``: the same as the ``cabina`` command."""

from cabina.cli import main

raise SystemExit(main())
