"""ClickHouse's HTTP interface, served from the chdb engine: no ClickHouse server can be installed
here, so the store's clickhouse-connect client talks to this instead, over real HTTP.

What it implements is what a client of the interface relies on: the query in the `query`
parameter or the body (an INSERT's rows in the body after a `query` parameter), `param_<name>`
query parameters, `database`, `default_format`, any other parameter as a setting for that request
only, compressed request bodies (gzip, deflate, zstd, lz4), `/ping`, and errors as ClickHouse
sends them (status 500, `X-ClickHouse-Exception-Code`, the exception text). Requests run one at a
time on one chdb engine (it serves one directory per process).

`server_url()` starts one harness per test process, in a child process of its own (the tests'
process has its own chdb engine); with POSTMETRIC_TEST_CLICKHOUSE_URL set, it returns that
server's URL instead and nothing is started.

Run by hand: `python tests/clickhouse_http.py DIR [PORT]`.
"""

from __future__ import annotations

import atexit
import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

SERVER_URL_VARIABLE = "POSTMETRIC_TEST_CLICKHOUSE_URL"

# Parameters of the HTTP interface itself; every other one is a setting.
_TRANSPORT = {"query", "database", "default_format", "query_id", "session_id", "session_timeout", "session_check",
              "compress", "decompress", "enable_http_compression", "user", "password", "wait_end_of_query",
              "buffer_size", "client_protocol_version", "quota_key", "role"}


def _decompress(body: bytes, encoding: str) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    if encoding == "lz4":
        import lz4.frame

        return lz4.frame.decompress(body)
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


class Engine:
    """One chdb session; tracks the database and the settings a request changed, so the next
    request starts from the defaults again."""

    def __init__(self, path: str) -> None:
        from chdb import session

        self._session = session.Session(path)
        self._lock = threading.Lock()
        self._database = "default"
        self._settings: dict[str, str] = {}

    def run(self, sql: bytes, *, database: str, settings: dict[str, str], params: dict[str, str],
            default_format: str) -> bytes:
        with self._lock:
            if database != self._database:
                self._session.query(f"USE `{database}`")
                self._database = database
            for name in self._settings.keys() - settings.keys():
                self._session.query(f"SET {name} = DEFAULT")
            for name, value in settings.items():
                if self._settings.get(name) != value:
                    self._session.query(f"SET {name} = {_quoted(value)}")
            self._settings = dict(settings)
            return self._session.query(sql, default_format, params=params).bytes()


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ERROR_CODE = re.compile(r"Code: (\d+)")


def handler(engine: Engine) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK hold every response back 40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:  # noqa: N802 - the http.server spelling
            if urlsplit(self.path).path == "/ping":
                self._reply(200, b"Ok.\n")
                return
            self._execute(b"")

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._execute(_decompress(body, self.headers.get("Content-Encoding", "")))

        def _execute(self, body: bytes) -> None:
            args = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            # A query in the URL takes the body as its data (an INSERT's rows); else the body is the query.
            sql = (args["query"].encode() + (b"\n" + body if body else b"")) if "query" in args else body
            params = {name[len("param_"):]: value for name, value in args.items() if name.startswith("param_")}
            settings = {name: value for name, value in args.items()
                        if name not in _TRANSPORT and not name.startswith("param_") and _SETTING_NAME.match(name)}
            database = args.get("database") or self.headers.get("X-ClickHouse-Database") or "default"
            default_format = args.get("default_format") or self.headers.get("X-ClickHouse-Format") or "TabSeparated"
            try:
                result = engine.run(sql, database=database, settings=settings, params=params,
                                    default_format=default_format)
            except Exception as error:  # noqa: BLE001 - every engine error goes back to the client
                message = str(error).strip()
                code = _ERROR_CODE.search(message)
                self._reply(500, (message + "\n").encode(),
                            {"X-ClickHouse-Exception-Code": code.group(1) if code else "1000"})
                return
            self._reply(200, result, {"X-ClickHouse-Format": default_format})

        def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-ClickHouse-Query-Id", str(uuid.uuid4()))
            self.send_header("X-ClickHouse-Timezone", "UTC")
            self.send_header("X-ClickHouse-Summary", '{"read_rows":"0","read_bytes":"0","written_rows":"0",'
                                                     '"written_bytes":"0","total_rows_to_read":"0"}')
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

    return Handler


_started: dict[str, str] = {}


def server_url() -> str:
    """The ClickHouse HTTP URL the tests use: POSTMETRIC_TEST_CLICKHOUSE_URL, or a harness started once."""
    if os.environ.get(SERVER_URL_VARIABLE):
        return os.environ[SERVER_URL_VARIABLE].rstrip("/")
    if "url" not in _started:
        directory = tempfile.mkdtemp(prefix="chdb-http-")
        process = subprocess.Popen([sys.executable, __file__, directory], stdout=subprocess.PIPE, text=True)
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            process.kill()
            raise RuntimeError(f"the chdb HTTP harness did not start: {line!r}")
        atexit.register(_stop, process, directory)
        _started["url"] = line.removeprefix("listening on ").strip()
    return _started["url"]


def _stop(process: subprocess.Popen, directory: str) -> None:
    process.kill()
    process.wait()
    shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    directory, port = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), handler(Engine(directory)))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
