#!/usr/bin/env bash
# Install what the tests need and run the whole suite: ruff, mypy, then pytest.
# Set DATABASE_URL and REDIS_URL to run against PostgreSQL and Redis (CI does);
# without them the suite runs on SQLite and tests that need a real server skip, saying why.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh test
ruff check .
ruff format --check .
mypy .
exec python -m pytest "$@"
