"""`python -m paramminer`: the same command as the `paramminer` script."""

from paramminer.cli import main

main()
