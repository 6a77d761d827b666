"""``python -m evalint``: the same command line as the ``evalint`` console script."""

import sys

from evalint.cli import main

if __name__ == "__main__":
    sys.exit(main())
