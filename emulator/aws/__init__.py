"""The AWS path run locally: a local AWS emulator (moto's server, or LocalStack when one is
running), the SQS queues and dead-letter queues of serverless.yml, and pollers that invoke the
stage handlers with real SQS batch events, as Lambda's event source mappings do."""
