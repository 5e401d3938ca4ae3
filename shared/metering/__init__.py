"""Metering: what each invocation used, recorded once by the invocation wrapper, and what AWS
would bill for it, per run and per function."""
