"""Quarry's tests: unit (no I/O), integration (embedded), stack (real services), e2e."""
