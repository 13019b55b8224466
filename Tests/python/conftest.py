"""Shared fixtures: the jobstream CLI built by `make`, the broker address, and the published schemas."""
import atexit
import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "deploy" / "schemas"
sys.path.insert(0, str(SCHEMAS))


@pytest.fixture(scope="session")
def cli():
    """Runs the jobstream CLI (JOBSTREAM_CLI, or the debug build) and returns its completed process."""
    path = os.environ.get("JOBSTREAM_CLI", str(ROOT / ".build" / "debug" / "jobstream"))
    if not pathlib.Path(path).exists():
        pytest.fail(f"{path} is missing: build first (make test does)")

    def run(*args, timeout=60):
        return subprocess.run([path, *args], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "KAFKA_BROKERS": broker()})
    return run


@pytest.fixture(scope="session")
def topics(cli):
    """jobstream's topics on the broker, for the modules that run services (`usefixtures("topics")`)."""
    result = cli("topics", "create")
    assert result.returncode == 0, result.stdout + result.stderr


def broker():
    return os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092")


def pytest_configure(config):
    """Under `pytest -n N` (pytest-xdist), each worker after the first gets a broker and a PostgreSQL
    database of its own, so that workers never see one another's topics or tables: the services'
    topic names are fixed, as in production. The first worker uses the ones `make test` started."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if worker == "gw0":
        return
    address = f"127.0.0.1:{9092 + 100 * int(worker.removeprefix('gw'))}"
    log = open(ROOT / ".local" / f"broker-{worker}.log", "w")
    process = subprocess.Popen([str(ROOT / ".local" / "venv" / "bin" / "tansu"), "broker", "--listener-url", f"tcp://{address}",
                                "--advertised-listener-url", f"tcp://{address}", "--storage-engine", "memory://tansu/"],
                               stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"})
    atexit.register(lambda: (process.kill(), process.wait()))
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(address.split(":"), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, f"the broker of {worker} did not start"
            time.sleep(0.1)
    os.environ["KAFKA_BROKERS"] = address
    if os.environ.get("JOBSTREAM_E2E_POSTGRES_URL"):
        os.environ["JOBSTREAM_E2E_POSTGRES_URL"] += f"_{worker}"


@pytest.fixture(scope="session")
def schemas():
    """The published schema of every topic, by topic name."""
    return {path.name.removesuffix(".schema.json"): json.loads(path.read_text())
            for path in SCHEMAS.glob("*.schema.json")}


@pytest.fixture
def topic():
    """A fresh topic name with three partitions, created with the Python admin client."""
    from confluent_kafka.admin import AdminClient, NewTopic
    name = f"test.python.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": broker()})  # must outlive the future
    futures = admin.create_topics([NewTopic(name, num_partitions=3)])
    futures[name].result(timeout=30)
    return name
