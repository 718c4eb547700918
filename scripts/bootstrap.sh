# Sourced by scripts/run.sh and scripts/test.sh: make .venv and install the project into it.
# Usage: source scripts/bootstrap.sh [extras]
set -euo pipefail
extras="${1:-}"
PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null; then
  echo "Python 3.11+ is needed: apt-get install python3 python3-venv" >&2; exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Python 3.11+ is needed; found $("$PYTHON" --version)" >&2; exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
      "$PYTHON" -m venv .venv
    else
      echo "Python's venv module is missing: sudo apt-get install python3-venv" >&2; exit 1
    fi
  fi
fi
# WeasyPrint (receipts and statements as PDF) needs Debian's pango.
if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
  else
    echo "PDF receipts need pango: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0" >&2
  fi
fi
stamp=".venv/.installed-${extras:-base}-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  if [ -n "$extras" ]; then
    .venv/bin/python -m pip install --quiet -e ".[$extras]"
  else
    .venv/bin/python -m pip install --quiet -e .
  fi
  touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
