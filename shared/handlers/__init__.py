"""Handler adapters: the Lambda context, the invocation wrapper, the HTTP app and stage adapters."""
