"""Runs jobstream services against a real broker and a real database for the end-to-end tests:
starts and kills instances, runs the CLI with the same store, and reads the database directly."""
import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, broker

# The executables under test: the debug build, or JOBSTREAM_BIN (a copy, say, while the tree is rebuilt).
BIN = pathlib.Path(os.environ.get("JOBSTREAM_BIN", ROOT / ".build" / "debug"))
TABLES = ["rate_plan_charges", "invoice_items", "backfill_jobs", "backfill_chunks", "backfill_row_errors",
          "backfill_chunk_plan", "backfill_before_images", "backfill_brakes", "backfill_preview_rows",
          "migrations", "migration_slices", "migration_warnings", "revenue_schedules", "sync_sessions", "sync_records",
          "sync_crm_id_changes", "audit_events"]


class Stage:
    """One stage's services on one store (an SQLite file or a PostgreSQL URL), and the CLI pointed at it."""

    def __init__(self, tmp_path, store, objects=None):
        """`objects`: None for a folder file store, else the environment of an object store (``object_store``)."""
        self.tmp = tmp_path
        self.store = store
        self.files = tmp_path / "files"
        self.objects = objects
        self.processes = {}
        # Groups of this stage only, starting at the end of the topics: earlier stages' messages are
        # not replayed, and no join waits on members of an earlier stage that left (the embedded
        # broker can stall such a join for minutes). Restarted instances rejoin the same group.
        self.group_suffix = uuid.uuid4().hex[:8]
        self.env = {**os.environ, "KAFKA_BROKERS": broker(), "JOBSTREAM_STORE": store,
                    "JOBSTREAM_FILE_STORE": str(self.files)}
        if objects:
            # The folder is then only scratch space: nothing the services keep is written there.
            self.env.update(objects, JOBSTREAM_SCRATCH_FOLDER=str(self.files))
            self.cli("files", "check", "--create-bucket")
        if self.is_postgres:
            self.psql("DROP TABLE IF EXISTS " + ", ".join(TABLES))

    def kept_files(self):
        """The regular files in the folder: with an object store, whatever was left in its scratch space."""
        return sorted(str(p.relative_to(self.files)) for p in self.files.rglob("*") if p.is_file())

    @property
    def is_postgres(self):
        return self.store.startswith("postgres://")

    # Services

    def start(self, name, *options, instance=0):
        """Starts one instance and waits until it has joined its consumer group."""
        key = (name, instance)
        log_path = self.tmp / f"{name}-{instance}.log"
        log = open(log_path, "a")
        args = [str(BIN / name), "--group", f"e2e-{name}-{self.group_suffix}", "-X", "auto.offset.reset=latest",
                "-X", "session.timeout.ms=6000", "-X", "max.poll.interval.ms=10000", *options]
        mark = log_path.stat().st_size
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        self.processes[key] = (process, log)
        deadline = time.monotonic() + 90
        while "partitions assigned" not in log_path.read_text()[mark:]:
            assert process.poll() is None, f"{name} exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"{name} did not join its group:\n{log_path.read_text()}"
            time.sleep(0.2)
        time.sleep(1)  # let a new group's start offsets ("latest") resolve before anything is published

    def kill(self, name, instance=0, sig=signal.SIGKILL):
        process, log = self.processes.pop((name, instance))
        process.send_signal(sig)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            # Never left running into later tests: it is killed, and the test says it did not stop.
            process.kill()
            process.wait()
            raise AssertionError(f"{name}-{instance} did not stop within 60 s of signal {sig}:\n"
                                 f"{self.log(name, instance)[-4000:]}")
        finally:
            log.close()
        return process.returncode

    def stop_all(self):
        for (name, instance) in list(self.processes):
            self.kill(name, instance, signal.SIGTERM)

    def log(self, name, instance=0):
        return (self.tmp / f"{name}-{instance}.log").read_text()

    # The CLI

    def cli(self, *args, timeout=120, check=True):
        result = subprocess.run([str(BIN / "jobstream"), *args], capture_output=True, text=True, timeout=timeout,
                                env=self.env)
        if check:
            assert result.returncode == 0, f"jobstream {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def wait_cli(self, kind, job_id, timeout):
        """Runs `jobstream KIND wait` until the job ends; returns what it printed."""
        result = self.cli(kind, "wait", job_id, "--timeout", str(timeout), timeout=timeout + 30, check=False)
        assert result.returncode in (0, 1), f"{kind} {job_id} did not end:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    @staticmethod
    def poll_until(what, read, predicate, timeout):
        """Reads until `predicate` holds for what `read` returns; returns that."""
        deadline = time.monotonic() + timeout
        while True:
            row = read()
            if row and predicate(row):
                return row
            assert time.monotonic() < deadline, f"{what} never got there; last: {row}"
            time.sleep(0.1)

    def seed(self, charges, invoice_items=0):
        self.cli("store", "seed", "--charges", str(charges), "--invoice-items", str(invoice_items))

    # The database, read directly

    def query(self, sql):
        """Rows of a query as tuples of strings (None for NULL)."""
        if self.is_postgres:
            return [tuple(None if v == "\\N" else v for v in line.split("\t")) for line in self.psql(sql).splitlines() if line]
        with sqlite3.connect(self.store, timeout=30) as connection:
            return [tuple(None if v is None else str(v) for v in row) for row in connection.execute(sql).fetchall()]

    def psql(self, sql, url=None):
        result = subprocess.run(["psql", url or self.store, "-v", "ON_ERROR_STOP=1", "-qtAX", "-F", "\t", "-P", "null=\\N",
                                 "-c", sql], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout


def object_store(what):
    """The environment naming a fresh prefix of the test bucket on the object store `make test` starts
    (SeaweedFS, checking every signature): a failure in CI when it is not there, a skip saying why elsewhere."""
    endpoint = os.environ.get("JOBSTREAM_TEST_S3_ENDPOINT")
    if not endpoint:
        if os.environ.get("CI"):
            pytest.fail(f"CI must set JOBSTREAM_TEST_S3_ENDPOINT for {what} on an object store")
        pytest.skip("JOBSTREAM_TEST_S3_ENDPOINT is not set; `make test` starts SeaweedFS and sets it")
    return {"JOBSTREAM_FILE_STORE": f"s3://jobstream-e2e/{uuid.uuid4().hex[:12]}", "JOBSTREAM_S3_ENDPOINT": endpoint,
            "JOBSTREAM_S3_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": os.environ["JOBSTREAM_TEST_S3_ACCESS_KEY"],
            "AWS_SECRET_ACCESS_KEY": os.environ["JOBSTREAM_TEST_S3_SECRET_KEY"]}


def store_for(kind, tmp, postgres_url, what):
    """A stage's store: an SQLite file in `tmp`, or the PostgreSQL database of the end-to-end tests —
    a failure in CI when its URL is not set, a skip saying why elsewhere."""
    if kind == "sqlite":
        return str(tmp / "store.sqlite")
    if not postgres_url:
        if os.environ.get("CI"):
            pytest.fail(f"CI must set JOBSTREAM_E2E_POSTGRES_URL for {what} on PostgreSQL")
        pytest.skip("JOBSTREAM_E2E_POSTGRES_URL is not set; `make test` starts PostgreSQL and sets it")
    return postgres_url


def publish(topic, key, message_type, payload):
    """Publishes an envelope by hand, as a script in another language would."""
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": broker(), "enable.idempotence": True})
    envelope = {"type": message_type, "version": "1.0", "jobId": key,
                "time": "2026-11-22T10:00:00.000Z", "payload": payload}
    producer.produce(topic, key=key, value=json.dumps(envelope).encode())
    assert producer.flush(30) == 0


def status_events(topic, job_id, timeout=20):
    """Every status event of a job on a status topic, in order."""
    return [json.loads(value)["payload"] for _, value in messages(topic, job_id, timeout)]


def dead_letter_errors(key, timeout=20):
    """The `jobstream.dead-letter.error` header of every dead letter keyed `key`, in order."""
    return [headers.get("jobstream.dead-letter.error") for headers, _ in messages("jobstream.dead-letters", key, timeout)]


def messages(topic, key, timeout=20):
    """(headers, value) of every message keyed `key` on a topic, in order; stops 3 s after the last one."""
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": broker(), "group.id": f"e2e-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000, "fetch.wait.max.ms": 50})
    consumer.subscribe([topic])
    events, deadline, quiet_since = [], time.monotonic() + timeout, None
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                if events and quiet_since and time.monotonic() - quiet_since > 3:
                    break
                continue
            quiet_since = time.monotonic()
            if message.error() or message.key() != key.encode():
                continue
            headers = {name: value.decode() for name, value in (message.headers() or [])}
            events.append((headers, message.value()))
    finally:
        consumer.close()
    return events
