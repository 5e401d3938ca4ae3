#!/usr/bin/env bash
# Build the dependencies layer: infra/serverless/layer/python/ from the committed requirements
# (infra/serverless/export-requirements.sh > infra/serverless/layer/requirements.txt), as
# Linux x86_64 CPython 3.11 wheels whatever machine builds it. Run before `serverless deploy`;
# `serverless package` in the tests runs without it and the layer then holds the manifest only.
# Every module is compiled for Python 3.11 (unchecked-hash .pyc, as /opt is read-only in Lambda)
# by bytecode.py, which finds a 3.11 interpreter when the one running it is not.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
rm -rf "$here/layer/python"
"$UV" pip install --quiet --target "$here/layer/python" \
  --python-platform x86_64-manylinux_2_17 --python-version 3.11 \
  --no-compile -r "$here/layer/requirements.txt"
python3 "$here/bytecode.py" --runtime python3.11 --prefix /opt/python "$here/layer/python" >/dev/null
du -sh "$here/layer/python"
