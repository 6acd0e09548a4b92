"""`make logs`: the backend's JSON log in lnav, queryable with SQL.

lnav (Debian package) does the parsing, indexing and SQL; this module only builds its command
line. The format (infra/lnav/formats/app/app_log.json) is passed with `-I`, so
nothing is installed into the user's lnav configuration. Its SQL table is `app_log`:
one row per line, a column per field (request_id, trace_id, method, route, path, status_code,
duration_ms, user_id, exception_type, ...), lnav's own log_time, log_level and log_body (the
`event`), and log_opid (= request_id).

    make logs                              lnav on .data/logs/backend.log (a terminal), or the
                                           last lines as a table (no terminal: headless, `lnav -n`)
    make logs REQUEST_ID=<id>              only the lines of that request
    make logs QUERY="SELECT ... FROM app_log ..."   any SQL (headless; prints the result)
    LOG_FILE=<path>  another log (e.g. .data/test-stack/logs/backend.log)
    OUTPUT=json      headless result as JSON instead of a table
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FORMAT_DIR = REPO / "infra" / "lnav"
TABLE = "app_log"
DEFAULT_LOG = REPO / ".data" / "logs" / "backend.log"
# The backend accepts client request IDs of this shape only (backend/app/core/correlation.py), so any
# real ID matches; anything else is refused before it reaches a SQL string.
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
COLUMNS = ("log_time", "log_level", "request_id", "trace_id", "method", "route", "status_code",
           "duration_ms", "logger_name", "log_body", "exception_type")
TAIL_LINES = 50


class UsageError(ValueError):
    pass


def request_query(request_id: str) -> str:
    """SQL for every line of one request, in log order."""
    if not REQUEST_ID_RE.fullmatch(request_id):
        raise UsageError(f"REQUEST_ID must match {REQUEST_ID_RE.pattern}: {request_id!r}")
    return (f"SELECT {', '.join(COLUMNS)} FROM {TABLE} "
            f"WHERE request_id = '{request_id}' ORDER BY log_line")


def tail_query(lines: int = TAIL_LINES) -> str:
    return (f"SELECT {', '.join(COLUMNS)} FROM {TABLE} "
            f"WHERE log_line > (SELECT max(log_line) FROM {TABLE}) - {int(lines)} ORDER BY log_line")


def lnav_command(log_file: Path, *, interactive: bool, request_id: str | None = None,
                 query: str | None = None, output: str = "table") -> list[str]:
    lnav = shutil.which("lnav") or "lnav"
    cmd = [lnav, "-I", str(FORMAT_DIR)]
    if interactive and not query:
        if request_id:
            request_query(request_id)  # validates
            cmd += ["-c", f":filter-expr :request_id = '{request_id}'"]
        return [*cmd, str(log_file)]
    sql = query or (request_query(request_id) if request_id else tail_query())
    cmd += ["-n", "-q", "-c", ";" + sql]
    if output == "json":
        cmd += ["-c", ":write-json-to -"]
    elif output == "csv":
        cmd += ["-c", ":write-csv-to -"]
    else:
        cmd += ["-c", ":write-table-to -"]
    return [*cmd, str(log_file)]


def main(env: dict[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    log_file = Path(env.get("LOG_FILE") or DEFAULT_LOG)
    if not log_file.is_file():
        print(f"make logs: no log at {log_file} (start the stack with `make up`, or set LOG_FILE=...)",
              file=sys.stderr)
        return 1
    if shutil.which("lnav") is None:
        print("make logs: lnav is not installed (`make install` installs it)", file=sys.stderr)
        return 1
    output = env.get("OUTPUT", "table")
    if output not in ("table", "json", "csv"):
        print(f"make logs: OUTPUT must be table, json or csv, not {output!r}", file=sys.stderr)
        return 2
    try:
        cmd = lnav_command(log_file, interactive=sys.stdout.isatty() and "OUTPUT" not in env,
                           request_id=env.get("REQUEST_ID") or None, query=env.get("QUERY") or None,
                           output=output)
    except UsageError as exc:
        print(f"make logs: {exc}", file=sys.stderr)
        return 2
    os.execv(cmd[0], cmd)  # lnav takes over the terminal (or writes the result and exits)


if __name__ == "__main__":
    sys.exit(main())
