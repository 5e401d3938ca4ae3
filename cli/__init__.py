"""The `quarry` command line: thin commands over the emulator and the tools beside it."""
