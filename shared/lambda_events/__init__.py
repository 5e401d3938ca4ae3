"""Lambda events as AWS sends them, built and read in one place: API Gateway REST (v1) and
HTTP (v2) APIs, ALB, Function URLs and proxy results (`http`), SQS batches and partial batch
responses (`sqs`), EventBridge scheduled events (`schedule`). Standard library only: the
docs function, which ships without the dependencies layer, reads its requests here."""
