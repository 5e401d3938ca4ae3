"""Runtime adapters: the Lambda context, the invocation wrapper, HTTP and stage handlers."""
