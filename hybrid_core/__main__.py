"""``python -m hybrid_core``."""

import sys

from hybrid_core.cli import main

sys.exit(main())
