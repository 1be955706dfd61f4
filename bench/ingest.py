"""Ingestion benchmark (SPEC §12): events/s, p50/p99 latency and server memory under a
bounded async load of realistic, varied events, next to a no-op Starlette endpoint.

    .venv/bin/python bench/ingest.py                    # starts its own servers, 10 s per run
    .venv/bin/python bench/ingest.py --duration 2 --connections 16   # a small run (CI)
    .venv/bin/python bench/ingest.py --url http://127.0.0.1:8000 --site pm_xxx   # an existing server

The load generator is one asyncio process speaking HTTP/1.1 keep-alive over raw sockets
(uvloop), so it costs the shared 2 cores as little as possible. Visitors arrive from many
addresses through X-Forwarded-For, with the server trusting 127.0.0.1 as its proxy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

ROOT = Path(__file__).resolve().parent.parent
BUDGET = {"events_per_second": 10_000, "p99_ms": 50.0, "memory_mb": 300.0, "share_of_noop": 0.5}

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
]
REFERRERS = ["", "", "", "https://www.google.com/", "https://t.co/abc", "https://news.ycombinator.com/",
             "https://www.reddit.com/r/selfhosted/", "https://chatgpt.com/", "https://duckduckgo.com/",
             "https://github.com/postmetric", "https://www.linkedin.com/feed/"]
CAMPAIGNS = ["", "", "", "", "?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
             "?utm_source=google&utm_medium=cpc&utm_campaign=brand", "?gclid=abc123", "?ref=producthunt"]
PATHS = ["/", "/pricing", "/docs", "/blog", "/about", "/signup", "/login"] + [f"/blog/post-{i}" for i in range(300)]


def realistic_requests(host: str, public_id: str, count: int, rng: random.Random) -> list[bytes]:
    """`count` distinct requests: visitors with several pageviews, goals and engagement."""
    requests = []
    visitors = [(str(uuid.UUID(int=rng.getrandbits(128))), f"{rng.randint(1, 223)}.{rng.randint(0, 255)}."
                 f"{rng.randint(0, 255)}.{rng.randint(1, 254)}", rng.choice(USER_AGENTS)) for _ in range(count // 4)]
    for _ in range(count):
        visitor_id, ip, ua = rng.choice(visitors)
        kind = rng.random()
        event = {"websiteId": public_id, "href": f"https://example.com{rng.choice(PATHS)}{rng.choice(CAMPAIGNS)}",
                 "referrer": rng.choice(REFERRERS), "title": "A page title",
                 "viewport": {"width": rng.choice([390, 1280, 1920]), "height": 800}}
        if rng.random() < 0.8:  # the rest are cookieless
            event |= {"visitorId": visitor_id, "sessionId": visitor_id}
        if kind < 0.7:
            event["type"] = "pageview"
        elif kind < 0.85:
            event |= {"type": "engagement", "scrollDepth": rng.randint(0, 100), "engagedMs": rng.randint(0, 60000)}
        else:
            event |= {"type": "goal", "name": rng.choice(["signup", "download", "cta_click"]),
                      "props": {"plan": rng.choice(["free", "pro"])}}
        body = json.dumps(event, separators=(",", ":")).encode()
        requests.append(
            b"POST /api/events HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nUser-Agent: %s\r\n"
            b"X-Forwarded-For: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (host.encode(), ua.encode(), ip.encode(), len(body), body)
        )
    return requests


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0


class Connection(asyncio.Protocol):
    """One keep-alive connection: send a request, wait for the whole response, repeat."""

    def __init__(self, requests: list[bytes], results: Results, deadline: float, done: asyncio.Future) -> None:
        self.requests, self.results, self.deadline, self.done = requests, results, deadline, done
        self.index = random.randrange(len(requests))
        self.buffer = b""

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.send()

    def send(self) -> None:
        self.index = (self.index + 1) % len(self.requests)
        self.started = time.perf_counter()
        self.transport.write(self.requests[self.index])

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = self.buffer[:head_end].lower()
        at = head.find(b"content-length:")
        length = int(head[at + 15: head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None]) if at >= 0 else 0
        if len(self.buffer) < head_end + 4 + length:
            return
        now = time.perf_counter()
        status = int(self.buffer[9:12])
        self.buffer = self.buffer[head_end + 4 + length:]
        self.results.latencies.append(now - self.started)
        self.results.statuses[status] = self.results.statuses.get(status, 0) + 1
        if now < self.deadline:
            self.send()
        else:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def drive(url: str, requests: list[bytes], connections: int, duration: float) -> Results:
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    results = Results()
    started = time.perf_counter()
    deadline = started + duration
    waiters = []
    for _ in range(connections):
        done = loop.create_future()
        await loop.create_connection(lambda d=done: Connection(requests, results, deadline, d),
                                     parts.hostname, parts.port)
        waiters.append(done)
    await asyncio.wait_for(asyncio.gather(*waiters), timeout=duration + 30)
    results.elapsed = time.perf_counter() - started
    return results


def summary(results: Results) -> dict:
    ordered = sorted(results.latencies)
    ok = sum(n for status, n in results.statuses.items() if status == 202)
    return {
        "requests": len(ordered),
        "statuses": dict(sorted(results.statuses.items())),
        "events_per_second": ok / results.elapsed,
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p99_ms": 1000 * ordered[int(len(ordered) * 0.99)],
        "max_ms": 1000 * ordered[-1],
    }


def rss_mb(pid: int) -> tuple[float, float, float, float]:
    """(current, peak, anonymous, file-backed) resident memory of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return tuple(int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(url: str, requests: list[bytes], args, server_pid: int | None) -> dict:
    """Drive the server; add the CPU both sides spent per request during the measured run."""
    warmup = asyncio.run(drive(url, requests, args.connections, args.warmup)) if args.warmup else Results()
    server_cpu, own_cpu = (cpu_seconds(server_pid) if server_pid else 0.0), time.process_time()
    figures = summary(asyncio.run(drive(url, requests, args.connections, args.duration)))
    if server_pid:
        figures["server_cpu_us"] = (cpu_seconds(server_pid) - server_cpu) / figures["requests"] * 1e6
    figures["generator_cpu_us"] = (time.process_time() - own_cpu) / figures["requests"] * 1e6
    figures["acknowledged_total"] = figures["statuses"].get(202, 0) + warmup.statuses.get(202, 0)
    return figures


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, path: str) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with code {process.returncode}")
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start within 60 s")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def postmetric(env: dict, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "postmetric", *args], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def start_postmetric(data_dir: Path, port: int) -> tuple[subprocess.Popen, str]:
    # The default configuration, rate limit included, behind a proxy on 127.0.0.1.
    env = {**os.environ, "POSTMETRIC_DATA_DIR": str(data_dir), "POSTMETRIC_TRUSTED_PROXIES": "127.0.0.1"}
    postmetric(env, "users", "create", "--email", "bench@example.com", "--password", "benchmark-password")
    site = postmetric(env, "sites", "create", "--owner", "bench@example.com", "--domain", "example.com")
    server = subprocess.Popen([sys.executable, "-m", "postmetric", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return server, site["public_id"]


def start_noop(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "noop_app:app", "--port", str(port), "--loop", "uvloop", "--http",
         "httptools", "--no-access-log", "--log-level", "warning"],
        cwd=Path(__file__).parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def count_stored(data_dir: Path) -> int:
    import duckdb

    with duckdb.connect(str(data_dir / "events.duckdb"), read_only=True) as db:
        return db.execute("SELECT count(*) FROM events").fetchone()[0]


def print_run(name: str, figures: dict, rss: tuple[float, ...] | None) -> None:
    memory = (f", server RSS {rss[0]:.0f} MB (peak {rss[1]:.0f} MB; {rss[2]:.0f} MB private, "
              f"{rss[3]:.0f} MB mapped files)" if rss else "")
    if "server_cpu_us" in figures:
        memory += f", CPU per request: server {figures['server_cpu_us']:.0f} µs"
    memory += f", load generator {figures['generator_cpu_us']:.0f} µs"
    print(f"{name:<28} {figures['events_per_second']:>9,.0f} events/s   p50 {figures['p50_ms']:6.1f} ms   "
          f"p99 {figures['p99_ms']:6.1f} ms   max {figures['max_ms']:6.1f} ms   "
          f"{figures['requests']:,} requests {figures['statuses']}{memory}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of measured load per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--distinct", type=int, default=50_000, help="distinct requests generated")
    parser.add_argument("--url", help="benchmark this running server instead of starting one")
    parser.add_argument("--site", help="the public id of a site on --url whose domain is example.com")
    parser.add_argument("--skip-noop", action="store_true", help="do not measure the no-op endpoint")
    args = parser.parse_args(argv)
    uvloop.install()
    print(f"machine: {machine()}")
    print(f"load: {args.connections} connections, {args.duration:.0f} s after {args.warmup:.0f} s warm-up, "
          f"{args.distinct:,} distinct events", flush=True)
    rng = random.Random(42)

    lost = False
    with tempfile.TemporaryDirectory(prefix="postmetric-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        server = None
        if args.url:
            url, public_id = args.url, args.site
        else:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            server, public_id = start_postmetric(data_dir, port)
        try:
            wait_until_up(url, server, "/api/health") if server else None
            requests = realistic_requests(urlsplit(url).netloc, public_id, args.distinct, rng)
            print("generated requests; driving postmetric ...", flush=True)
            figures = measured(url, requests, args, server.pid if server else None)
            rss = rss_mb(server.pid) if server else None
            print_run("postmetric POST /api/events", figures, rss)
        finally:
            if server:
                stop(server)
        if server:
            stored, acknowledged = count_stored(data_dir), figures["acknowledged_total"]
            lost = stored != acknowledged
            print(f"stored after shutdown: {stored:,} of {acknowledged:,} acknowledged events (warm-up included)"
                  + ("  <-- MISMATCH" if lost else ""))

    noop_figures = None
    if not args.skip_noop:
        port = free_port()
        noop = start_noop(port)
        try:
            noop_url = f"http://127.0.0.1:{port}"
            wait_until_up(noop_url, noop, "/api/events")
            print("driving the no-op Starlette endpoint ...", flush=True)
            noop_figures = measured(noop_url, requests, args, noop.pid)
            print_run("no-op Starlette endpoint", noop_figures, rss_mb(noop.pid))
        finally:
            stop(noop)

    print("budget (SPEC §12):")
    checks = [
        ("events/s", figures["events_per_second"], f">= {BUDGET['events_per_second']:,}",
         figures["events_per_second"] >= BUDGET["events_per_second"]),
        ("p99 latency ms", figures["p99_ms"], f"<= {BUDGET['p99_ms']}", figures["p99_ms"] <= BUDGET["p99_ms"]),
    ]
    if rss:
        # The geolocation database is memory-mapped: its pages count in RSS but are the
        # kernel's page cache, shared and reclaimable. Both figures are printed.
        checks.append(("server private MB", rss[2], f"<= {BUDGET['memory_mb']:.0f}", rss[2] <= BUDGET["memory_mb"]))
        checks.append(("server peak RSS MB", rss[1], f"<= {BUDGET['memory_mb']:.0f}", rss[1] <= BUDGET["memory_mb"]))
    if noop_figures:
        share = figures["events_per_second"] / noop_figures["events_per_second"]
        checks.append(("share of no-op", share, f">= {BUDGET['share_of_noop']:.0%}", share >= BUDGET["share_of_noop"]))
    for name, value, target, ok in checks:
        print(f"  {name:<20} {value:>10,.2f}   target {target:<10} {'ok' if ok else 'MISSED'}")
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
