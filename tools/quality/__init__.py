"""Quality evaluations of the pure cores on the labelled sets in tests/sites/."""
