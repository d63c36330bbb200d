"""``python -m bandster`` is the ``bandster`` command."""

import sys

from bandster.cli import main

sys.exit(main())
