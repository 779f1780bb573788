#!/usr/bin/env bash
# One command on a fresh machine: install, validate and build the demo portal into site/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
.venv/bin/disclosure validate --quiet
.venv/bin/disclosure build "$@"
