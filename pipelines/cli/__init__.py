"""The `elections` command line: one module per sub-command group, registered in `main`."""
