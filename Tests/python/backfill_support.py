"""Runs the backfill services against a real broker and a real database for the end-to-end tests:
starts and kills instances, runs the CLI with the same store, and reads the database directly."""
import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import time
import uuid

from conftest import ROOT, broker

BIN = ROOT / ".build" / "debug"
TABLES = ["rate_plan_charges", "invoice_items", "backfill_jobs", "backfill_chunks", "backfill_row_errors"]


class Backfills:
    """The backfill stage (validators and processors) on one store, and the CLI pointed at it."""

    def __init__(self, tmp_path, store):
        self.tmp = tmp_path
        self.store = store
        self.files = tmp_path / "files"
        self.processes = {}
        # Groups of this stage only, starting at the end of the topics: earlier stages' messages are
        # not replayed, and no join waits on members of an earlier stage that left (the embedded
        # broker can stall such a join for minutes). Restarted instances rejoin the same group.
        self.group_suffix = uuid.uuid4().hex[:8]
        self.env = {**os.environ, "KAFKA_BROKERS": broker(), "JOBSTREAM_STORE": store,
                    "JOBSTREAM_FILE_STORE": str(self.files)}
        if self.is_postgres:
            self.psql("DROP TABLE IF EXISTS " + ", ".join(TABLES))

    @property
    def is_postgres(self):
        return self.store.startswith("postgres://")

    # Services

    def start(self, name, instance=0, lease=5):
        """Starts one instance and waits until it has joined its consumer group."""
        key = (name, instance)
        log_path = self.tmp / f"{name}-{instance}.log"
        log = open(log_path, "a")
        args = [str(BIN / name), "--group", f"e2e-{name}-{self.group_suffix}", "-X", "auto.offset.reset=latest",
                "-X", "session.timeout.ms=6000", "-X", "max.poll.interval.ms=10000"]
        if name == "backfill-validator":
            args += ["--lease", str(lease)]
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
        process.wait(timeout=60)
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

    def seed(self, charges, invoice_items=0):
        self.cli("store", "seed", "--charges", str(charges), "--invoice-items", str(invoice_items))

    def submit(self, action, file=None, *extra):
        args = ["backfill", "submit", "--action", action, "--generated-by", "e2e"]
        if file is not None:
            args += ["--file", str(file)]
        return self.cli(*args, *extra).stdout.strip().splitlines()[0]

    def wait(self, job, timeout=300):
        """Follows the job to its end; returns the statuses printed on the way and the job's row."""
        result = self.cli("backfill", "wait", job, "--timeout", str(timeout), timeout=timeout + 30, check=False)
        assert result.returncode in (0, 1), f"backfill {job} did not end:\n{result.stdout}\n{result.stderr}"
        return result.stdout, self.job(job)

    def wait_until(self, job, predicate, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            row = self.job(job)
            if row and predicate(row):
                return row
            assert time.monotonic() < deadline, f"backfill {job} never got there; last: {row}"
            time.sleep(0.1)

    def result_rows(self, job):
        out = self.tmp / f"result-{uuid.uuid4().hex[:6]}.csv"
        self.cli("backfill", "download", job, "-o", str(out))
        with open(out, newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))

    # The database, read directly

    def query(self, sql):
        """Rows of a query as tuples of strings (None for NULL)."""
        if self.is_postgres:
            return [tuple(None if v == "\\N" else v for v in line.split("\t")) for line in self.psql(sql).splitlines() if line]
        with sqlite3.connect(self.store, timeout=30) as connection:
            return [tuple(None if v is None else str(v) for v in row) for row in connection.execute(sql).fetchall()]

    def psql(self, sql):
        result = subprocess.run(["psql", self.store, "-v", "ON_ERROR_STOP=1", "-qtAX", "-F", "\t", "-P", "null=\\N",
                                 "-c", sql], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def job(self, job):
        rows = self.query("SELECT status, records_processed, records_failed, records_total, error, result_path, retry_of, "
                          f"retried_by, uploaded_file FROM backfill_jobs WHERE job_id = '{job}'")
        if not rows:
            return None
        keys = ["status", "processed", "failed", "total", "error", "result_path", "retry_of", "retried_by", "uploaded_file"]
        row = dict(zip(keys, rows[0]))
        for key in ("processed", "failed", "total"):
            row[key] = None if row[key] is None else int(row[key])
        return row

    def versions(self, ids):
        quoted = ", ".join(f"'{i}'" for i in ids)
        return {i: int(v) for i, v in self.query(f"SELECT id, version FROM rate_plan_charges WHERE id IN ({quoted})")}


def publish_request(job_id, payload, topic="jobstream.backfill.requests"):
    """Publishes a backfill request by hand, as a script in another language would."""
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": broker(), "enable.idempotence": True})
    envelope = {"type": "backfill.request", "version": "1.0", "jobId": job_id,
                "time": "2026-11-22T10:00:00.000Z", "payload": payload}
    producer.produce(topic, key=job_id, value=json.dumps(envelope).encode())
    assert producer.flush(30) == 0


def status_events(job_id, timeout=20):
    """Every status event of a job on jobstream.backfill.status, in order."""
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": broker(), "group.id": f"e2e-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000, "fetch.wait.max.ms": 50})
    consumer.subscribe(["jobstream.backfill.status"])
    events, deadline, quiet_since = [], time.monotonic() + timeout, None
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                if events and quiet_since and time.monotonic() - quiet_since > 3:
                    break
                continue
            quiet_since = time.monotonic()
            if message.error() or message.key() != job_id.encode():
                continue
            events.append(json.loads(message.value())["payload"])
    finally:
        consumer.close()
    return events


def write_csv(path, rows, bom=False, newline="\r\n"):
    """Writes rows as RFC 4180 CSV (quoting as needed) and returns the path."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    data = buffer.getvalue().encode()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path
