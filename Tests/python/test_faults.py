"""The fault suite: hostile messages, hostile files, paused and killed owners — real services, the real
broker, SQLite and PostgreSQL. Each test makes its order certain (processes held with SIGSTOP, observable
states waited on, processors paced); none depends on how fast something runs."""
import os
import random
import signal
import subprocess
import time

import pytest

import fault_support as faults
from backfill_support import Backfills, status_events, write_csv
from stage_support import dead_letter_errors, store_for

POSTGRES = os.environ.get("JOBSTREAM_E2E_POSTGRES_URL")
LIMIT = 65_536  # --max-message-bytes of this suite's services
SERVICE_LIMITS = ("--max-message-bytes", str(LIMIT))
PACED = ("--max-chunks-per-second", "2")

pytestmark = pytest.mark.usefixtures("topics")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stage(request, tmp_path_factory):
    """Two validators (4 s lease), two paced processors, a migration runner and a sync recorder."""
    tmp = tmp_path_factory.mktemp(f"faults-{request.param}")
    stage = Backfills(tmp, store_for(request.param, tmp, POSTGRES, "the fault suite"))
    try:
        stage.seed(30_000)
        stage.install_poison_triggers()
        for instance in (0, 1):
            stage.start("backfill-validator", instance=instance, lease=4, extra=SERVICE_LIMITS)
            stage.start("backfill-processor", instance=instance, extra=SERVICE_LIMITS + PACED)
        Backfills.start(stage, "migration-runner", extra=SERVICE_LIMITS + ("--lease", "4"))
        Backfills.start(stage, "sync-history-recorder", extra=SERVICE_LIMITS)
        yield stage
    finally:
        stage.stop_all()


def charges_csv(path, rows, start=1):
    lines = ["Charge Id,Booking Date,Accounting Code"]
    lines += [f"RPC-{n:08d},2025-{n % 12 + 1:02d}-15,ACC-{n % 7}" for n in range(start, start + rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_applied_once(stage, job, first, rows):
    """Every row of the job's file applied exactly once (version 2) and the result file complete."""
    ids = [f"RPC-{n:08d}" for n in range(first, first + rows)]
    versions = stage.query("SELECT version, COUNT(*) FROM rate_plan_charges "
                           f"WHERE id BETWEEN '{ids[0]}' AND '{ids[-1]}' GROUP BY version")
    assert versions == [("2", str(rows))], f"every row applied exactly once: {versions}"
    result = stage.result_rows(job)[1:]
    assert [r[0] for r in result] == ids and all(r[3] == "true" for r in result)
    leftovers = [f for f in faults.files_under(stage.files / "results" / job) if f.endswith(".partial")]
    assert leftovers == [] and not (stage.files / "work" / job).exists(), leftovers


def reset_versions(stage):
    stage.query("UPDATE rate_plan_charges SET version = 1")


# Messages

REQUESTS = {
    "jobstream.backfill.requests": ("backfill.request", {"action": "booking-date-from-created", "generatedBy": "faults"}),
    "jobstream.migration.requests": ("migration.request", {"cutoverDate": "2025-01-01", "generatedBy": "faults"}),
    "jobstream.sync.events": ("sync.session-started", {"operation": "Manual", "startedAt": "2026-11-22T10:00:00.000Z"}),
}


# The other consumed topics: work between jobstream's own stages (a poison of theirs is a chunk or
# slice refused at once, as test_operations and the unit tests show).
OTHER_TOPICS = ["jobstream.backfill.chunks", "jobstream.migration.slices"]


def test_oversized_undecodable_and_always_failing_messages_are_dead_lettered_and_the_next_is_handled(stage):
    """On every consumed topic: a message too large (refused unread, its dead letter cut to fit, with
    the original's size and hash) and one whose type is 60,000 characters (the reason quotes 60 of
    them). On the request and event topics also one well-formed that the store refuses every time (a
    test trigger: tried 5 times, then dead-lettered), and after them a good one, which is handled."""
    import hashlib
    hostile = {}
    for topic in list(REQUESTS) + OTHER_TOPICS:
        oversized, unknown, poison = faults.unique("oversized"), faults.unique("unknown-type"), faults.unique("poison")
        value = b"x" * (LIMIT + 40_000)
        faults.produce_raw(topic, oversized, value)
        faults.produce_raw(topic, unknown, faults.envelope("y" * 60_000, unknown, {}))
        if topic in REQUESTS:
            message_type, payload = REQUESTS[topic]
            faults.produce_raw(topic, poison, faults.envelope(message_type, poison, payload))
        hostile[topic] = (oversized, value, unknown, poison if topic in REQUESTS else None)
    good = {topic: faults.unique("after") for topic in REQUESTS}
    for topic, key in good.items():
        if topic != "jobstream.migration.requests":  # a migration would take the shared store for a while
            faults.produce_raw(topic, key, faults.envelope(*REQUESTS[topic][:1], key, REQUESTS[topic][1]))

    keys = {key for oversized, _, unknown, poison in hostile.values() for key in (oversized, unknown, poison) if key}
    letters = faults.messages_by_key("jobstream.dead-letters", keys, timeout=90)
    for topic, (oversized, value, unknown, poison) in hostile.items():
        headers, letter = letters[oversized]
        assert f"the message is {len(value)} bytes; at most {LIMIT} are read" in headers["jobstream.dead-letter.error"]
        assert headers["jobstream.dead-letter.topic"] == topic
        assert headers["jobstream.dead-letter.original-bytes"] == str(len(value))
        assert headers["jobstream.dead-letter.original-sha256"] == hashlib.sha256(value).hexdigest()
        assert len(letter) < LIMIT and value.startswith(letter)
        reason = letters[unknown][0]["jobstream.dead-letter.error"]
        assert reason.startswith('unknown message type "yyyy') and len(reason) < 1100, reason[:200]
        if poison is None:
            continue
        reason = letters[poison][0]["jobstream.dead-letter.error"]
        assert reason.startswith("handling failed 5 times:") and "refused by the fault suite" in reason, reason

    faults.wait_for("the next sync session recorded", lambda: stage.query(
        f"SELECT 1 FROM sync_sessions WHERE session_id = '{good['jobstream.sync.events']}'"), timeout=60)
    row = stage.wait_until(good["jobstream.backfill.requests"], lambda r: r["status"] == "Completed", timeout=60)
    assert row["status"] == "Completed"


def test_job_ids_that_climb_out_of_the_file_store_are_refused_and_nothing_is_written_outside(stage, tmp_path):
    valid = stage.submit("update-rate-plan-charge", charges_csv(tmp_path / "ok.csv", 3, start=29_901))
    path, name = stage.query(f"SELECT file_path, uploaded_file FROM backfill_jobs WHERE job_id = '{valid}'")[0]
    reference = {"path": path, "name": name}
    outside = f"/tmp/esc-{os.urandom(4).hex()}"
    climbing = [f"../../../../../..{outside}", f"a/../../results/{os.urandom(4).hex()}", f"../{os.urandom(4).hex()}"]
    for job in climbing:
        faults.produce_raw("jobstream.backfill.requests", job, faults.envelope("backfill.request", job, {
            "action": "update-rate-plan-charge", "generatedBy": "faults", "file": reference}))
    for job, (headers, _) in faults.messages_by_key("jobstream.dead-letters", set(climbing), timeout=60).items():
        reason = headers["jobstream.dead-letter.error"]
        assert reason.startswith("invalid envelope: jobId: the job id") and "may hold only" in reason, reason
    assert not os.path.exists(outside)
    assert stage.query("SELECT COUNT(*) FROM backfill_jobs WHERE job_id LIKE '%/%' OR job_id LIKE '.%'") == [("0",)]


def test_a_cancel_for_an_unknown_job_is_refused_saying_so(stage):
    unknown = faults.unique("never-submitted")
    refused = stage.cli("backfill", "cancel", unknown, check=False)
    assert refused.returncode != 0 and "no backfill" in refused.stderr and unknown in refused.stderr


# Ownership

def test_a_paused_owner_loses_the_job_and_it_completes_with_its_result_file_every_row_once(stage, tmp_path):
    reset_versions(stage)
    rows, first = 5_000, 20_001
    job = stage.submit("update-rate-plan-charge", charges_csv(tmp_path / "paused.csv", rows, start=first), "--generated-by", "x")
    stage.wait_until(job, lambda r: r["status"] == "Processing" and r["processed"] > 0, timeout=120)
    processors = [stage.processes[("backfill-processor", i)][0] for i in (0, 1)]
    for process in processors:
        stage.pause_outside_statements(process, job)  # the job cannot end while its owner is away
    try:
        owner, epoch = stage.query(f"SELECT owner, epoch FROM backfill_jobs WHERE job_id = '{job}'")[0]
        paused = next(p for (name, _), (p, _) in stage.processes.items()
                      if name == "backfill-validator" and p.pid == faults.pid_of_owner(owner))
        stage.pause_outside_statements(paused, job)
        try:
            taken = faults.wait_for("the other validator's takeover", lambda: stage.query(
                f"SELECT owner, epoch FROM backfill_jobs WHERE job_id = '{job}' AND owner <> '{owner}'"), timeout=60)
            assert int(taken[0][1]) == int(epoch) + 1, taken
        finally:
            paused.send_signal(signal.SIGCONT)
        instance = next(i for (name, i), (p, _) in stage.processes.items() if p is paused)
        faults.wait_for("the resumed owner standing down", lambda: "no longer holds the job's claim" in stage.log(
            "backfill-validator", instance), timeout=30)
    finally:
        for process in processors:
            process.send_signal(signal.SIGCONT)
    printed, row = stage.wait(job, timeout=300)
    assert row["status"] == "Completed" and (row["processed"], row["failed"]) == (rows, 0), (row, printed)
    assert_applied_once(stage, job, first, rows)
    newest = max(status_events(job, timeout=20), key=lambda e: e["sequence"])
    assert newest["status"] == "Completed" and newest["resultFile"], "a reader keeping the highest sequence sees the end"


# On PostgreSQL, the store for many instances (the kill path on SQLite is test_backfill's kill test).
@pytest.mark.parametrize("stage", ["postgres"], indirect=True)
def test_kill_9_in_a_loop_over_two_validators_and_two_processors_applies_every_row_once(stage, tmp_path):
    reset_versions(stage)
    rows, first = 20_000, 1
    job = stage.submit("update-rate-plan-charge", charges_csv(tmp_path / "killed.csv", rows, start=first), "--generated-by", "x")
    stage.wait_until(job, lambda r: r["status"] == "Processing" and r["processed"] > 0, timeout=120)
    victims = [("backfill-validator", 0), ("backfill-processor", 0), ("backfill-validator", 1), ("backfill-processor", 1)]
    kills = 0
    # The processors are paced (4 chunks a second in all): once the first of the job's 20 chunks is
    # applied, the rest take at least 4.75 s, so the first kill certainly lands mid-job. Each victim
    # is a member of its group when killed; the next kill waits for the replacement's join.
    for name, instance in victims * 2:
        if stage.job(job)["status"] != "Processing":
            break
        stage.kill(name, instance)
        kills += 1
        options = SERVICE_LIMITS if name == "backfill-validator" else SERVICE_LIMITS + PACED
        Backfills.start(stage, name, instance=instance, lease=4, extra=options)
    assert kills >= 1
    printed, row = stage.wait(job, timeout=300)
    assert row["status"] == "Completed" and (row["processed"], row["failed"]) == (rows, 0), (row, printed)
    assert_applied_once(stage, job, first, rows)


# Hostile files: read the same whatever the store, so run once, on SQLite

@pytest.mark.parametrize("stage", ["sqlite"], indirect=True)
def test_hostile_files_fail_their_jobs_with_a_short_reason_and_bounded_memory(stage, tmp_path):
    files = [
        (faults.never_ending_deflate_zip(tmp_path / "endless.zip"),
         "the .csv file in endless.zip is damaged: its compressed data ends before the file does"),
        (faults.high_ratio_zip(tmp_path / "bomb.zip"), "more than 200 times its packed size (--max-zip-ratio)"),
        (faults.line_without_line_break(tmp_path / "one-line.csv"),
         "line 1, field 3: the field is longer than 65536 bytes; at most 65536 are read"),
        (faults.huge_field(tmp_path / "huge-field.csv"), "line 2, field 3: the field is longer than 65536 bytes"),
        (faults.many_columns(tmp_path / "columns.csv"), "line 1: the record has more than 1000 fields"),
    ]
    jobs = [(stage.submit("update-rate-plan-charge", path), expected) for path, expected in files]
    for job, expected in jobs:
        row = stage.wait_until(job, lambda r: r["status"] in ("Failed", "Completed"), timeout=120)
        assert row["status"] == "Failed" and expected in row["error"], row
        assert len(row["error"]) < 1100, len(row["error"])
        assert not (stage.files / "work" / job).exists(), "the job's working files are removed when it ends"
    for instance in (0, 1):
        pid = stage.processes[("backfill-validator", instance)][0].pid
        assert faults.peak_memory_mb(pid) < 300, f"validator {instance} peaked at {faults.peak_memory_mb(pid)} MB"


@pytest.mark.parametrize("stage", ["sqlite"], indirect=True)
def test_rows_with_the_wrong_number_of_fields_keep_success_and_error_under_their_names(stage, tmp_path):
    header = ["Charge Id", "Booking Date", "Accounting Code", "Amount", "Service Start Date", "Service End Date", "Note"]
    rows = [header, ["RPC-00029001", "2025-01-01", "A", "1.00", "2025-01-01", "2025-12-31", "seven"],
            ["RPC-00029002", "2025-01-01", "A", "1.00", "2025-01-01", "six"],
            ["RPC-00029003", "2025-01-01", "A", "1.00", "2025-01-01", "2025-12-31", "nine", "x", "y"]]
    job = stage.submit("update-rate-plan-charge", write_csv(tmp_path / "widths.csv", rows))
    _, row = stage.wait(job)
    assert row["status"] == "Completed" and (row["processed"], row["failed"]) == (3, 2), row
    result = stage.result_rows(job)
    assert result[0] == header + ["Success", "Error Message"]
    assert result[1][7:] == ["true", ""]
    assert result[2] == rows[2] + [""] + ["false", "the row has 6 fields but the header has 7"]
    assert result[3] == rows[3][:7] + ["false", "the row has 9 fields but the header has 7", "x", "y"]


def test_sigterm_during_an_unpack_stops_the_validator_within_its_grace_period(tmp_path):
    stage = Backfills(tmp_path, str(tmp_path / "store.sqlite"))
    try:
        stage.start("backfill-validator", lease=4, extra=("--unpack-timeout", "600"))
        job = stage.submit("update-rate-plan-charge", faults.big_zip(tmp_path / "big.zip"))
        work = stage.files / "work" / job
        faults.wait_for("the unpacking under way", lambda: any(
            f.endswith(".partial") and os.path.getsize(f) > 0 for f in faults.files_under(work)), timeout=60, interval=0.02)
        process = stage.processes[("backfill-validator", 0)][0]
        started = time.monotonic()
        assert stage.kill("backfill-validator", sig=signal.SIGTERM) == 0
        assert time.monotonic() - started < 15, "the validator took longer than its grace period to stop"
        assert "stopping for shutdown" in stage.log("backfill-validator")
        status, lease = stage.query(f"SELECT status, lease_until FROM backfill_jobs WHERE job_id = '{job}'")[0]
        assert (status, lease) == ("Pending", "0"), "the claim is let go for another validator to continue"
        assert not [f for f in faults.files_under(work) if f.endswith(".partial")], "the partial unpacking is removed"
        assert process.returncode == 0
    finally:
        stage.stop_all()
