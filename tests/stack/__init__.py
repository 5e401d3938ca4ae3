"""Stack tests: the real services (nginx, Redis, Postgres, Prometheus) the emulator starts."""
