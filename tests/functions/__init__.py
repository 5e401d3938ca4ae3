"""Functions that exist only for tests: they exercise the gateway's corners."""
