#!/usr/bin/env bash
# A throw-away PostgreSQL for trying Relais on it by hand: Debian's server binaries, a
# temporary folder, a free port, run as `nobody` when started by root. Prints the URL to put
# in DATABASE_URL, then waits; Ctrl-C stops the server and deletes its folder. `make test`
# does not need it: the tests start their own (tests/postgres_server.py).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python - <<'PY'
import signal
from tests.postgres_server import PostgresServer
server = PostgresServer.start()
print(f"DATABASE_URL={server.url}", flush=True)
try:
    signal.sigwait({signal.SIGINT, signal.SIGTERM})
finally:
    server.stop()
PY
