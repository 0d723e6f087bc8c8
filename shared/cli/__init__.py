"""The `gunj` command line."""
