"""``python -m evalint``: the same command line as the ``evalint`` console script."""

from evalint.cli import console

if __name__ == "__main__":
    console()
