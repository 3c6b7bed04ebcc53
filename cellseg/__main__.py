"""Allow ``python -m cellseg``."""

import sys

from cellseg.cli import main

sys.exit(main())
