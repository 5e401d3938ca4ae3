"""The dispatch port's implementations: Taskiq (in-process broker, Redis Streams) and SQS.

The port itself is `shared.ports.Dispatcher`; the records a stage receives are built in
`shared.lambda_events.sqs`."""
