"""Execution environments like Lambda's, run locally: a process per environment, started from a
clean interpreter whose import path holds only the function's unpacked package, its layers and
the Lambda runtime's own packages; the Lambda Runtime API each one polls; the pools that reuse
warm environments within their function's concurrency; and the service that invokes them
through Lambda's Invoke API for the gateway, the SQS pollers and the schedules."""
