#!/usr/bin/env bash
# The layer's requirements: the locked runtime dependencies (uv export --no-dev), less what
# Lambda has or never runs: boto3 and botocore (in the Python runtime), and the emulator's own
# server and CLI (uvicorn, typer, rich).
set -euo pipefail
cd "$(dirname "$0")/../.."
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
"$UV" export --frozen --no-dev --no-hashes --no-emit-project --no-header --no-annotate \
  --prune boto3 --prune uvicorn --prune typer --prune rich \
  --format requirements.txt
