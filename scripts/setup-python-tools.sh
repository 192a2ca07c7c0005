#!/usr/bin/env bash
# Installs the pinned Python tools (cfn-lint, checkov) into .venv, once. Idempotent and quiet when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_VERSION="1.58.0"
CHECKOV_VERSION="3.3.30"

if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 is required for cfn-lint and checkov: apt-get install python3 python3-venv" >&2
  exit 1
fi
# Reads the installed versions from package metadata: much faster than starting either tool.
installed() {
  [ -x .venv/bin/cfn-lint ] && [ -x .venv/bin/checkov ] &&
    [ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("cfn-lint"), m.version("checkov"))' 2>/dev/null)" = "${CFN_LINT_VERSION} ${CHECKOV_VERSION}" ]
}
if installed; then
  exit 0
fi
python3 -m venv .venv || { echo "python3 venv support is missing: apt-get install python3-venv" >&2; exit 1; }
# Both in one resolve, so that pip picks dependency versions that satisfy the two pins together.
.venv/bin/pip install --quiet --disable-pip-version-check "cfn-lint==${CFN_LINT_VERSION}" "checkov==${CHECKOV_VERSION}"
echo "installed cfn-lint ${CFN_LINT_VERSION} and checkov ${CHECKOV_VERSION} in .venv"
