"""`python -m alchemist.cli ...`, the same as the `alchemist` command."""

from . import main

main()
