"""``python -m matinee``: the same command line as the ``matinee`` script."""

from matinee.cli import main

main()
