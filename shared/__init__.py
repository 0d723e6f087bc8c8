"""gunj functions: the engine shared by the Cloud Functions and the `gunj` command line."""
