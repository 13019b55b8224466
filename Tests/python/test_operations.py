"""Operating the services: /health and /ready, metrics after a job (counters moved, lag back to 0),
and a stage scaled out while a job runs (three processors share its chunks, a fourth joins mid-job)
— real services, the real broker, an SQLite store."""
import os
import signal
import subprocess
import time

import pytest

from backfill_support import Backfills
from operations_support import (METRIC_OPTIONS, get, operations_url, ready, scrape, series, settled, value,
                                wait_for_metrics)
from stage_support import BIN, publish

pytestmark = pytest.mark.usefixtures("topics")
CHUNKS = "jobstream.backfill.chunks"


@pytest.fixture
def backfills(tmp_path):
    stage = Backfills(tmp_path, str(tmp_path / "store.sqlite"))
    try:
        yield stage
    finally:
        stage.stop_all()


def start(stage, name, instance=0, extra=()):
    """Starts an instance with an operations port; returns the port's URL."""
    stage.start(name, instance=instance, extra=(*METRIC_OPTIONS, *extra))
    return operations_url(stage.tmp / f"{name}-{instance}.log")


def charges_file(path, rows, start=1):
    lines = ["Charge Id,Booking Date,Accounting Code"]
    lines += [f"RPC-{n:08d},2025-{n % 12 + 1:02d}-15,ACC-{n % 7}" for n in range(start, start + rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def spawn(tmp_path, name, *options):
    """Starts a service without waiting for anything; returns the process and its log's path."""
    log_path = tmp_path / f"{name}-spawned.log"
    env = {**os.environ, "JOBSTREAM_STORE": str(tmp_path / "store.sqlite"), "JOBSTREAM_FILE_STORE": str(tmp_path / "files")}
    process = subprocess.Popen([str(BIN / name), *METRIC_OPTIONS, *options], stdout=open(log_path, "w"),
                               stderr=subprocess.STDOUT, env=env)
    return process, log_path


def stop(process):
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0


def test_ready_is_false_until_the_group_is_joined_and_health_answers_throughout(tmp_path):
    from conftest import broker
    process, log_path = spawn(tmp_path, "backfill-processor", "--brokers", broker(),
                              "--group", f"e2e-ready-{os.getpid()}-{time.monotonic_ns()}",
                              "-X", "session.timeout.ms=6000", "-X", "max.poll.interval.ms=10000")
    try:
        url = operations_url(log_path)
        answers = []
        deadline = time.monotonic() + 90
        while not answers or answers[-1][0] != 200:
            assert time.monotonic() < deadline, f"never ready: {answers[-3:]}\n{log_path.read_text()}"
            answers.append(ready(url))
            assert get(url + "/health")[0] == 200
            time.sleep(0.05)
        first_status, first = answers[0]
        assert first_status == 503, answers[0]
        assert first["checks"]["kafka"].startswith("not yet a member of consumer group e2e-ready-"), first
        assert first["checks"]["store"] == "ok"
        assert answers[-1][1] == {"ready": True, "checks": {"kafka": "ok", "store": "ok"}}
        assert "partitions assigned" in log_path.read_text()
    finally:
        stop(process)


def test_ready_stays_false_while_the_broker_cannot_be_reached(tmp_path):
    process, log_path = spawn(tmp_path, "backfill-processor", "--brokers", "127.0.0.1:1")
    try:
        url = operations_url(log_path)
        for _ in range(10):
            assert get(url + "/health") == (200, '{"status":"up"}')
            status, answer = ready(url)
            assert status == 503 and answer["ready"] is False, answer
            assert "not yet a member" in answer["checks"]["kafka"]
            time.sleep(0.5)
    finally:
        stop(process)


def test_metrics_after_a_job_count_its_work_and_the_lag_returns_to_0(backfills, tmp_path):
    backfills.seed(2_000)
    validator = start(backfills, "backfill-validator", extra=("--chunk-size", "400"))
    processor = start(backfills, "backfill-processor")
    # Counters move by this job's work from here (see `settled`).
    before = {name: settled(processor, name, topic=topic) for name, topic in [
        ("jobstream_messages_consumed_total", CHUNKS), ("jobstream_message_processing_seconds_count", CHUNKS),
        ("jobstream_messages_dead_lettered_total", CHUNKS)]}
    requests_before = settled(validator, "jobstream_messages_consumed_total", topic="jobstream.backfill.requests")
    job = backfills.submit("update-rate-plan-charge", charges_file(tmp_path / "charges.csv", 2_000))
    printed, row = backfills.wait(job)
    assert row["status"] == "Completed", (row, printed)
    chunks = int(backfills.query(f"SELECT COUNT(*) FROM backfill_chunks WHERE job_id = '{job}'")[0][0])
    assert chunks == 5

    samples = wait_for_metrics(processor, "every chunk counted and every lag 0", lambda s: (
        value(s, "jobstream_messages_consumed_total", topic=CHUNKS) == before["jobstream_messages_consumed_total"] + chunks
        and series(s, "jobstream_consumer_lag", topic=CHUNKS)
        and all(v == 0 for v in series(s, "jobstream_consumer_lag", topic=CHUNKS).values())))
    assert value(samples, "jobstream_message_processing_seconds_count", topic=CHUNKS) == (
        before["jobstream_message_processing_seconds_count"] + chunks)
    assert (value(samples, "jobstream_messages_dead_lettered_total", topic=CHUNKS) or 0) == (
        before["jobstream_messages_dead_lettered_total"])
    assert value(samples, "jobstream_consumer_assigned_partitions") == 12
    assert value(samples, "jobstream_build_info", service="backfill-processor", librdkafka="2.8.0") == 1

    by_status = wait_for_metrics(validator, "the job's statuses counted", lambda s: (
        value(s, "jobstream_job_status_events_total", kind="backfill", status="Completed") == 1))
    for status in ("Pending", "Processing"):
        assert value(by_status, "jobstream_job_status_events_total", kind="backfill", status=status) >= 1
    assert value(by_status, "jobstream_messages_consumed_total", topic="jobstream.backfill.requests") == requests_before + 1
    assert value(by_status, "jobstream_messages_produced_total", topic=CHUNKS) == chunks

    # A message the processor cannot handle is dead-lettered and counted, and the lag still returns to 0.
    publish(CHUNKS, job, "backfill.request", {"action": "update-rate-plan-charge", "generatedBy": "e2e"})
    wait_for_metrics(processor, "the dead letter counted and the lag 0 again", lambda s: (
        value(s, "jobstream_messages_dead_lettered_total", topic=CHUNKS) == before["jobstream_messages_dead_lettered_total"] + 1
        and value(s, "jobstream_messages_consumed_total", topic=CHUNKS) == before["jobstream_messages_consumed_total"] + chunks + 1
        and all(v == 0 for v in series(s, "jobstream_consumer_lag", topic=CHUNKS).values())))

    # The dashboard counts jobs by status from the status topics (which hold other tests' jobs too).
    dashboard, log_path = spawn(tmp_path, "dashboard", "--port", "0", "-X", "session.timeout.ms=6000",
                                "-X", "max.poll.interval.ms=10000")
    try:
        board = operations_url(log_path)
        samples = wait_for_metrics(board, "the job counted as Completed", lambda s: (
            (value(s, "jobstream_jobs", kind="backfill", status="Completed") or 0) >= 1))
        assert value(samples, "jobstream_messages_consumed_total", topic="jobstream.backfill.status") >= 3
        assert ready(board) == (200, {"ready": True, "checks": {"file store": "ok", "kafka": "ok", "store": "ok"}})
    finally:
        stop(dashboard)


def test_three_processors_share_a_jobs_chunks_and_a_fourth_joining_mid_job_duplicates_nothing(backfills, tmp_path):
    # The first three are paced (--max-chunks-per-second), so they cannot finish the job's chunks in less
    # than chunks / (3 × pace) seconds — far longer than a join takes: the fourth certainly joins mid-job.
    rows, chunk_size, pace = 20_000, 20, 8
    chunks = rows // chunk_size
    backfills.seed(rows + 10)
    start(backfills, "backfill-validator", extra=("--chunk-size", str(chunk_size)))
    processors = [start(backfills, "backfill-processor", instance=i, extra=("--max-chunks-per-second", str(pace)))
                  for i in range(3)]
    before = [settled(url, "jobstream_messages_consumed_total", topic=CHUNKS) for url in processors]
    job = backfills.submit("update-rate-plan-charge", charges_file(tmp_path / "big.csv", rows, start=11))
    backfills.wait_until(job, lambda r: r["status"] == "Processing" and r["processed"] > 0, timeout=180)
    processors.append(start(backfills, "backfill-processor", instance=3))
    joined = backfills.job(job)
    assert joined["status"] == "Processing" and joined["processed"] < rows, f"the fourth must join mid-job: {joined}"

    printed, row = backfills.wait(job, timeout=400)
    assert row["status"] == "Completed", (row, printed)
    assert (row["processed"], row["failed"]) == (rows, 0)
    consumed = [(value(scrape(url), "jobstream_messages_consumed_total", topic=CHUNKS) or 0) - baseline
                for url, baseline in zip(processors, before + [0])]
    assert all(count > 0 for count in consumed[:3]), f"each of the first three processed some chunks: {consumed}"
    assert sum(consumed) >= chunks, consumed
    versions = dict(backfills.query("SELECT version, COUNT(*) FROM rate_plan_charges GROUP BY version"))
    assert versions == {"1": "10", "2": str(rows)}, f"every row applied exactly once, nothing else touched: {versions}"
    ledger = backfills.query(f"SELECT COUNT(*), COUNT(DISTINCT chunk_index) FROM backfill_chunks WHERE job_id = '{job}'")
    assert ledger == [(str(chunks), str(chunks))]
    result = backfills.result_rows(job)[1:]
    assert [r[0] for r in result] == [f"RPC-{n:08d}" for n in range(11, rows + 11)]
    assert all(r[3] == "true" for r in result)


def test_a_taken_operations_port_is_a_one_line_error(tmp_path):
    import socket
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        env = {**os.environ, "JOBSTREAM_STORE": str(tmp_path / "store.sqlite"), "JOBSTREAM_FILE_STORE": str(tmp_path / "files")}
        result = subprocess.run([str(BIN / "backfill-processor"), "--metrics-port", str(port), "--brokers", "127.0.0.1:1"],
                                capture_output=True, text=True, timeout=60, env=env)
    finally:
        holder.close()
    assert result.returncode != 0
    assert f"the operations port 127.0.0.1:{port} (--metrics-port) cannot be opened" in result.stderr, result.stderr
    assert "not closed before deinitializing" not in result.stderr + result.stdout and "Backtrace" not in result.stderr
