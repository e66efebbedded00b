"""A running Pareto for the client's tests: the real binary (``PARETO_BIN``, else the debug build)
serving a fresh database beside ``DATABASE_URL``'s, loaded with the demo organization."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from pareto_client import Pareto

ROOT = Path(__file__).resolve().parents[3]


def binary() -> Path:
    path = Path(os.environ.get("PARETO_BIN", ROOT / "target" / "debug" / "pareto"))
    if not path.exists():
        pytest.fail(f"{path} does not exist: build it with `make build` or set PARETO_BIN")
    return path


def psql(server_url: str, statement: str) -> None:
    subprocess.run(
        ["psql", f"{server_url}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", statement],
        check=True,
        capture_output=True,
    )


class RunningPareto:
    def __init__(self, url: str, database_url: str, token: str):
        self.url = url
        self.database_url = database_url
        self.token = token

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """A ``pareto`` command against this database."""
        return subprocess.run(
            [str(binary()), *args],
            env={**os.environ, "DATABASE_URL": self.database_url, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def server() -> Iterator[RunningPareto]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pareto")
    server_url = base.rsplit("/", 1)[0]
    name = f"pareto_py_{uuid.uuid4().hex}"
    psql(server_url, f"create database {name}")
    database_url = f"{server_url}/{name}"
    env = {**os.environ, "DATABASE_URL": database_url, "NO_COLOR": "1"}
    process = None
    try:
        subprocess.run(
            [str(binary()), "demo", "--password", "python client tests"],
            env=env, check=True, capture_output=True, timeout=300,
        )
        token = subprocess.run(
            [str(binary()), "token", "create", "--name", "python-tests",
             "--scope", "read,write,ingest"],
            env=env, check=True, capture_output=True, text=True, timeout=60,
        ).stdout.strip()
        process = subprocess.Popen(
            [str(binary()), "serve"],
            env={**env, "PARETO_LISTEN": "127.0.0.1:0", "PARETO_LOG": "info",
                 "LEPTOS_SITE_ROOT": str(ROOT / "target" / "site")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: "queue.Queue[str]" = queue.Queue()

        def read() -> None:
            assert process is not None and process.stderr is not None
            for line in process.stderr:
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail("pareto serve did not report its address within 60 s")
            if "listening on " in line:
                url = line.split("listening on ", 1)[1].split()[0]
        while True:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("/readyz did not answer 200 within 60 s")
            time.sleep(0.1)
        yield RunningPareto(url, database_url, token)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        psql(server_url, f"drop database if exists {name} with (force)")


@pytest.fixture()
def pareto(server: RunningPareto) -> Pareto:
    return Pareto(server.url, server.token)


@pytest.fixture()
def experiment(pareto: Pareto) -> str:
    """A new experiment of the demo's fraud team: F1 at least 0.9 within 50 ms at p95."""
    return pareto.create_experiment(
        f"Tumour screening {uuid.uuid4().hex[:8]}",
        team="Fraud Detection",
        task_type="classification",
        primary_metric="f1",
        dataset="breast cancer (scikit-learn)",
        constraints=["f1 >= 0.9", "p95 <= 50"],
        monthly_volume=1_000_000,
    )
