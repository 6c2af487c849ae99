"""`python -m deepedge.cli`: the same as the `deepedge` command."""

from deepedge.cli import main

main()
