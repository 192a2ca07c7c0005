#!/usr/bin/env bash
# Installs the pinned Python tools (cfn-lint) into .venv, once. Idempotent and quiet when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_VERSION="1.58.0"

if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 is required for cfn-lint: apt-get install python3 python3-venv" >&2
  exit 1
fi
if [ -x .venv/bin/cfn-lint ] && [ "$(.venv/bin/cfn-lint --version 2>/dev/null)" = "cfn-lint ${CFN_LINT_VERSION}" ]; then
  exit 0
fi
python3 -m venv .venv || { echo "python3 venv support is missing: apt-get install python3-venv" >&2; exit 1; }
.venv/bin/pip install --quiet --disable-pip-version-check "cfn-lint==${CFN_LINT_VERSION}"
echo "installed $(.venv/bin/cfn-lint --version) in .venv"
