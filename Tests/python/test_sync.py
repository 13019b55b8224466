"""Sync history end to end: the simulator and hand-published events, sync-history recorders, a real
broker and a real database (SQLite, and PostgreSQL when JOBSTREAM_E2E_POSTGRES_URL is set — `make test`
and CI set it)."""
import csv
import os

import pytest

from stage_support import dead_letter_errors, store_for
from sync_support import SyncHistory, publish_event, retry_requests, summaries

POSTGRES = os.environ.get("JOBSTREAM_E2E_POSTGRES_URL")

pytestmark = pytest.mark.usefixtures("topics")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sync(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"sync-{request.param}")
    stage = SyncHistory(tmp, store_for(request.param, tmp, POSTGRES, "the sync tests"))
    try:
        stage.start_recorder()
        yield stage
    finally:
        stage.stop_all()


def assert_recorded_as_planned(sync, planned, rows):
    for session_id, plan in planned.items():
        row = rows[session_id]
        assert row["status"] == plan["status"], session_id
        assert (row["operation"], row["synced"], row["failed"]) == (plan["operation"], plan["recordsSynced"],
                                                                    plan["recordsFailed"]), session_id
        assert (row["to_retry"], row["crm_id_changes"]) == (plan["recordsToRetry"], plan["crmIdChanges"]), session_id
    ids = ", ".join(f"'{s}'" for s in planned)
    outcomes = sum(p["recordsSynced"] + p["recordsFailed"] for p in planned.values())
    assert sync.count(f"SELECT COUNT(*) FROM sync_records WHERE session_id IN ({ids})") == outcomes, "each outcome once"


def test_each_status_with_events_twice_and_out_of_order(sync):
    planned = sync.simulate("--failure-rate", "0.03", "--system-failure-rate", "0.3", "--duplicate-rate", "0.3",
                            "--shuffle", "--seed", "4", sessions=12, records=40)
    assert {p["status"] for p in planned.values()} == {"Finished", "Finished with Errors", "Failure"}, "the seed covers all three"
    rows = sync.wait_ended(planned)
    assert_recorded_as_planned(sync, planned, rows)
    # The compacted history topic's latest summary of a session is its final line.
    session_id, plan = next(iter(planned.items()))
    latest = summaries(session_id)[-1]
    assert (latest["status"], latest["recordsSynced"], latest["recordsFailed"], latest["operation"]) == (
        plan["status"], plan["recordsSynced"], plan["recordsFailed"], plan["operation"])


def test_retries_are_published_and_manual_fixes_listed(sync, tmp_path):
    session = f"engine-{os.urandom(4).hex()}"
    publish_event(session, "sync.record-outcome", {"objectType": "Account", "objectId": "A-1", "success": False,
                                                   "errorCode": "UNABLE_TO_LOCK_ROW", "errorMessage": "unable to lock row",
                                                   "retryable": True})
    publish_event(session, "sync.session-finished", {"finishedAt": "2026-11-22T10:05:00.000Z", "recordCount": 3})
    publish_event(session, "sync.record-outcome", {"objectType": "Account", "objectId": "A-2", "success": False,
                                                   "errorCode": "INVALID_CRM_ACCOUNT_ID",
                                                   "errorMessage": "invalid CRM account id, with \"quotes\"",
                                                   "retryable": False})
    publish_event(session, "sync.record-outcome", {"objectType": "Invoice", "objectId": "INV-1", "success": True,
                                                   "crmId": "a0B2", "retryable": False,
                                                   "crmIdChange": {"previousCrmId": "a0B1", "newCrmId": "a0B2"}})
    publish_event(session, "sync.session-started", {"operation": "Manual", "startedAt": "2026-11-22T10:00:00.000Z"})
    row = sync.wait_ended([session])[session]
    assert (row["status"], row["synced"], row["failed"], row["to_retry"], row["crm_id_changes"]) == (
        "Finished with Errors", 1, 2, 1, 1)

    [request] = retry_requests(session)
    assert request["scope"] == "records" and request["operation"] == "Manual"
    assert request["records"] == [{"objectType": "Account", "objectId": "A-1"}], "only the retryable record"

    shown = sync.cli("sync", "show", session).stdout
    assert "Need A Manual Fix:     1" in shown and "Manual fix" in shown and "INVALID_CRM_ACCOUNT_ID" in shown
    assert "a0B1" in shown, "the CRM Id Change Result is shown"
    out = tmp_path / "failures.csv"
    sync.cli("sync", "failures", session, "-o", str(out))
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["Object Id"], r["Error Code"], r["Retry"]) for r in rows] == [
        ("A-1", "UNABLE_TO_LOCK_ROW", "Automatic"), ("A-2", "INVALID_CRM_ACCOUNT_ID", "Manual fix")]
    assert rows[1]["Error Message"] == 'invalid CRM account id, with "quotes"'

    failed = f"engine-{os.urandom(4).hex()}"
    publish_event(failed, "sync.session-started", {"operation": "Scheduled", "startedAt": "2026-11-22T11:00:00.000Z"})
    publish_event(failed, "sync.session-failed", {"failedAt": "2026-11-22T11:01:00.000Z", "failure": "Database connection",
                                                  "reason": "connection refused"})
    assert sync.wait_ended([failed])[failed]["status"] == "Failure"
    assert retry_requests(failed) == [{"scope": "session", "operation": "Scheduled", "records": [], "part": 1,
                                       "partCount": 1}]
    assert "Database connection failure: connection refused" in sync.cli("sync", "show", failed).stdout


def test_history_filters_by_date_range_and_operation(sync):
    manual = sync.simulate("--operation", "Manual", "--days-ago", "3", sessions=2, records=2)
    scheduled = sync.simulate("--operation", "Scheduled", "--days-ago", "1", sessions=2, records=2)
    sync.wait_ended([*manual, *scheduled])
    day = lambda ago: sync.query(f"SELECT started_at FROM sync_sessions WHERE session_id = '{next(iter(ago))}'")[0][0]
    import datetime
    as_date = lambda ms: datetime.datetime.fromtimestamp(int(ms) / 1000, datetime.timezone.utc).date().isoformat()
    manual_day, scheduled_day = as_date(day(manual)), as_date(day(scheduled))
    listed = sync.history_ids("--operation", "Manual", "--from", manual_day, "--to", manual_day)
    assert set(manual) <= set(listed) and not set(scheduled) & set(listed)
    listed = sync.history_ids("--from", scheduled_day, "--operation", "scheduled")
    assert set(scheduled) <= set(listed) and not set(manual) & set(listed)
    both = sync.history_ids("--from", manual_day)
    ours = [s for s in both if s in manual or s in scheduled]
    assert ours[:2] == sorted(scheduled, reverse=True) and ours[2:] == sorted(manual, reverse=True), "newest first"
    bad = sync.cli("sync", "history", "--from", "2026-13-01", check=False)
    assert bad.returncode != 0 and "--from \"2026-13-01\" is not a date" in bad.stderr
    bad = sync.cli("sync", "history", "--operation", "Hourly", check=False)
    assert bad.returncode != 0 and "Hourly" in bad.stderr


def test_retention_deletes_old_sessions_with_their_detail_rows(sync):
    old = sync.simulate("--days-ago", "31", "--failure-rate", "0.2", sessions=2, records=50)
    recent = sync.simulate("--days-ago", "29", "--failure-rate", "0", sessions=1, records=5)
    sync.wait_ended(recent)
    ids = ", ".join(f"'{s}'" for s in old)
    sync.poll_until("retention", lambda: [sum(sync.count(f"SELECT COUNT(*) FROM {t} WHERE session_id IN ({ids})")
                                              for t in ("sync_sessions", "sync_records", "sync_crm_id_changes"))],
                    lambda counts: counts[0] == 0, 60)
    for session_id in old:
        assert summaries(session_id)[-1] is None, "the last word on the compacted topic is a tombstone"
    assert sync.session(next(iter(recent)))["status"] == "Finished", "29 days old: kept"


def test_a_malformed_event_is_dead_lettered_and_the_rest_recorded(sync):
    session = f"engine-{os.urandom(4).hex()}"
    publish_event(session, "sync.record-outcome", {"objectType": "Account", "objectId": "A-1", "success": False,
                                                   "retryable": False})
    publish_event(session, "sync.session-started", {"operation": "On-demand", "startedAt": "2026-11-22T10:00:00.000Z"})
    publish_event(session, "sync.session-finished", {"finishedAt": "2026-11-22T10:00:01.000Z", "recordCount": 0})
    assert sync.wait_ended([session])[session]["status"] == "Finished"
    errors = dead_letter_errors(session)
    assert errors and "needs an errorCode" in errors[0]


def test_kill_9_mid_stream_loses_and_double_counts_nothing(sync):
    planned = sync.simulate("--failure-rate", "0.02", "--duplicate-rate", "0.1", sessions=20, records=2000)
    sync.poll_until("some progress", lambda: [sync.count("SELECT COUNT(*) FROM sync_records")], lambda c: c[0] > 0, 60)
    sync.kill("sync-history-recorder")
    # From the committed offsets; a partition with none yet is read from its start (not skipped).
    sync.start_recorder(0, "-X", "auto.offset.reset=earliest")
    rows = sync.wait_ended(planned, timeout=300)
    assert_recorded_as_planned(sync, planned, rows)


# Two recorders share a PostgreSQL database; an SQLite file is for one recorder.
@pytest.mark.parametrize("sync", ["postgres"], indirect=True)
def test_two_recorders_on_postgres(sync):
    sync.start_recorder(1)
    planned = sync.simulate("--failure-rate", "0.05", "--system-failure-rate", "0.2", "--duplicate-rate", "0.2",
                            "--shuffle", sessions=24, records=300)
    rows = sync.wait_ended(planned, timeout=300)
    assert_recorded_as_planned(sync, planned, rows)
    for instance in (0, 1):
        assert "partitions assigned" in sync.log("sync-history-recorder", instance)
    sync.kill("sync-history-recorder", 1)
