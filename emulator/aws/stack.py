"""`quarry up --aws`: the one-shot that creates the queues of serverless.yml in the local AWS
emulator (the stack's processes then build their ports with SQS as the queue)."""

from __future__ import annotations

import sys
from pathlib import Path

from emulator.aws.queues import create_queues, queue_specs
from emulator.table import read_document
from shared.aws import client

STAGE = "dev"  # the stage serverless.yml's queue names are resolved for locally


def queue_prefix(service: str) -> str:
    """The prefix of the stage queues, as serverless.yml names them for the local stage."""
    return f"{service}-{STAGE}-"


def setup(endpoint: str, table_path: Path) -> dict[str, str]:
    """Create serverless.yml's queues and dead-letter queues (idempotent)."""
    return create_queues(client("sqs", endpoint), queue_specs(read_document(table_path), STAGE))


def main(argv: list[str]) -> None:
    """`python -m emulator.aws.stack ENDPOINT [TABLE]`: create the queues, print their URLs."""
    if not argv:
        sys.exit("usage: python -m emulator.aws.stack ENDPOINT [TABLE]")
    table = Path(argv[1]) if len(argv) > 1 else Path("serverless.yml")
    for logical, url in setup(argv[0], table).items():
        print(f"{logical}: {url}")


if __name__ == "__main__":
    main(sys.argv[1:])
