"""`quarry up`: the production topology on one machine, from the machine's own binaries."""
