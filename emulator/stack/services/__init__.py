"""Local stand-ins for the managed services Quarry runs on (Postgres, ports to serve them on)."""
