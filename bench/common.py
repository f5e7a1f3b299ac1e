"""Helpers the benchmarks share: a live server on a temporary database, and percentiles."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    return (f"p50 {percentile(values, 50):.1f} ms, p95 {percentile(values, 95):.1f} ms, "
            f"mean {statistics.fmean(values):.1f} ms, n={len(values)}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`casenotes serve` as a real process on a free loopback port."""
    port = free_port()
    env = {**os.environ, "CASENOTES_DATA_DIR": str(data_dir), "CASENOTES_DEMO": "1",
           "CASENOTES_PORT": str(port), **(extra_env or {})}
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve"], env=env, cwd=ROOT,
                              stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/login", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError((data_dir / "server.log").read_text()) from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(15)
        log.close()


def server_ms(response: object) -> float:
    """The app's own time from the Server-Timing header."""
    header = response.headers.get("server-timing", "")  # type: ignore[attr-defined]
    return float(header.split("dur=")[1]) if "dur=" in header else float("nan")
