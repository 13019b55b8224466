"""Migrations end to end: the CLI, migration runners, a real broker and a real database (SQLite, and
PostgreSQL when JOBSTREAM_E2E_POSTGRES_URL is set — `make test` and CI set it)."""
import csv
import os
import re
import uuid

import pytest

from stage_support import store_for
from migration_support import Migrations, dead_letter_errors, publish_request, status_events

POSTGRES = os.environ.get("JOBSTREAM_E2E_POSTGRES_URL")


pytestmark = pytest.mark.usefixtures("topics")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def migrations(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"migration-{request.param}")
    store = store_for(request.param, tmp, POSTGRES, "the migration tests")
    stage = Migrations(tmp, store)
    try:
        stage.seed(100)
        stage.start_runner()
        yield stage
    finally:
        stage.stop_all()


def assert_progress_never_falls(events):
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress), f"progress fell back: {progress}"


def test_a_clean_run_goes_accepted_in_progress_completed(migrations):
    migrations.seed(3000)
    migrations.give_every_charge_a_booking_date()
    in_scope = migrations.in_scope()
    migration = migrations.start_migration("2025-01-01", "--wait")
    printed, row = migrations.wait(migration)
    assert row["status"] == "Completed", row
    assert (row["progress"], row["in_scope"], row["schedules"], row["warnings"]) == (100, in_scope, in_scope, 0)
    assert row["generated_by"] == "e2e" and row["cutover"] == "2025-01-01" and row["error"] is None
    assert int(row["start_time"]) <= int(row["end_time"])
    assert "Completed  progress: 100%" in printed

    events = status_events(migration)
    statuses = [e["status"] for e in events]
    assert statuses[0] == "Accepted" and statuses[-1] == "Completed", statuses
    assert set(statuses) == {"Accepted", "In progress", "Completed"}, statuses
    assert_progress_never_falls(events)
    last = events[-1]
    assert (last["progress"], last["cutoverDate"], last["generatedBy"]) == (100, "2025-01-01", "e2e")
    assert last["startTime"] and last["endTime"] and last["schedulesGenerated"] == in_scope
    assert all(e["status"] != "In progress" or "startTime" in e for e in events)

    assert migrations.count("SELECT COUNT(*) FROM revenue_schedules WHERE cutover_date = '2025-01-01'") == in_scope
    # Every schedule's lines add up to its amount; the recognized part is what lies before the cutover.
    for amount, recognized, open_amount, lines in migrations.query(
            "SELECT amount, recognized_amount, open_amount, lines FROM revenue_schedules ORDER BY charge_id LIMIT 200"):
        import json
        parsed = json.loads(lines)
        cents = lambda text: round(float(text) * 100)
        assert sum(cents(line[2]) for line in parsed) == cents(amount)
        assert sum(cents(line[2]) for line in parsed if line[3]) == cents(recognized)
        assert all(line[3] == (line[1] < "2025-01-01") for line in parsed)
        assert cents(recognized) + cents(open_amount) == cents(amount)

    logs = migrations.cli("migration", "logs").stdout
    assert logs.splitlines()[0].split() == ["Migration", "Id", "Start", "Time", "End", "Time", "Generated", "By",
                                            "Cutover", "Date", "Progress", "Status"]
    assert re.search(rf"{migration} .* e2e +2025-01-01 +100% +Completed", logs), logs
    shown = migrations.cli("migration", "show", migration).stdout
    assert f"Charges In Scope:    {in_scope}" in shown and "Warnings:            0" in shown, shown


def test_charges_that_cannot_be_migrated_make_completed_warning_with_their_reasons(migrations, tmp_path):
    migrations.seed(2000)
    migrations.query("UPDATE rate_plan_charges SET amount = 'twelve' WHERE id = 'RPC-00000003'")
    migrations.query("UPDATE rate_plan_charges SET service_end_date = '2020-01-01', booking_date = created_on "
                     "WHERE id = 'RPC-00000005'")
    migrations.query("UPDATE rate_plan_charges SET revenue_recognition_rule = NULL, booking_date = created_on "
                     "WHERE id = 'RPC-00000006'")
    in_scope = migrations.in_scope("2025-01-02")
    no_booking = migrations.count("SELECT COUNT(*) FROM rate_plan_charges WHERE created_on <= '2025-01-02' "
                                  "AND booking_date IS NULL")
    migration = migrations.start_migration("2025-01-02")
    _, row = migrations.wait(migration)
    assert row["status"] == "Completed-Warning", row
    expected_warnings = no_booking + 2 + (0 if migrations.query(
        "SELECT booking_date FROM rate_plan_charges WHERE id = 'RPC-00000003'")[0][0] is None else 1)
    assert row["warnings"] == expected_warnings
    assert row["schedules"] == in_scope - expected_warnings
    assert migrations.count("SELECT COUNT(*) FROM revenue_schedules WHERE cutover_date = '2025-01-02' "
                            "AND charge_id IN ('RPC-00000003', 'RPC-00000005', 'RPC-00000006')") == 0

    out = tmp_path / "warnings.csv"
    migrations.cli("migration", "warnings", migration, "-o", str(out))
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Charge Id", "Reason"]
    assert len(rows) - 1 == expected_warnings
    reasons = dict(rows[1:])
    assert reasons["RPC-00000003"].endswith('amount "twelve" is not a decimal number')
    assert reasons["RPC-00000005"] == "service end date 2020-01-01 is before its start date " + migrations.query(
        "SELECT service_start_date FROM rate_plan_charges WHERE id = 'RPC-00000005'")[0][0]
    assert reasons["RPC-00000006"] == "no revenue recognition rule"
    assert [c for c, r in rows[1:]] == sorted(c for c, r in rows[1:])

    listed = migrations.cli("migration", "warnings", migration, "--limit", "5").stdout.splitlines()
    assert listed[0].split() == ["Charge", "Id", "Reason"] and len(listed) == 6
    events = status_events(migration)
    assert events[-1]["status"] == "Completed-Warning" and events[-1]["warnings"] == expected_warnings


def test_bad_dates_and_a_second_migration_while_one_is_in_progress_are_refused(migrations):
    for bad in ["2025-02-30", "01/02/2025", "2025-1-1", ""]:
        result = migrations.cli("migration", "start", "--cutover", bad, check=False)
        assert result.returncode != 0
        assert f'--cutover "{bad}" is not a date written YYYY-MM-DD' in result.stderr, result.stderr

    # A request that is not well-formed never starts a migration: it is dead-lettered saying why.
    malformed = f"malformed-{uuid.uuid4().hex[:8]}"
    publish_request(malformed, {"cutoverDate": "2025-02-30", "generatedBy": "script"})
    errors = dead_letter_errors(malformed, timeout=30)
    assert len(errors) == 1 and "cutoverDate" in errors[0] and "2025-02-30" in errors[0], errors
    assert migrations.migration(malformed) is None

    # A migration In progress elsewhere (its coordinator holds a long claim).
    active = f"active-{uuid.uuid4().hex[:8]}"
    migrations.query("INSERT INTO migrations (migration_id, cutover_date, generated_by, status, submitted_at, "
                     "start_time, progress, slice_size, owner, lease_until, updated_at) VALUES "
                     f"('{active}', '2024-06-30', 'someone', 'In progress', 1, 1, 40, 100, 'elsewhere', "
                     "9000000000000, 1)")
    try:
        result = migrations.cli("migration", "start", "--cutover", "2025-01-01", check=False)
        assert result.returncode != 0
        assert f"migration {active} (cutover 2024-06-30, by someone) is In progress; one migration runs at a time" \
            in result.stderr, result.stderr

        # A request that bypasses the CLI is refused by the runner and logged as Error saying why.
        sneaky = f"sneaky-{uuid.uuid4().hex[:8]}"
        publish_request(sneaky, {"cutoverDate": "2025-01-01", "generatedBy": "script"})
        row = migrations.wait_until(sneaky, lambda r: r["status"] == "Error", timeout=60)
        assert row["error"] == f"refused: migration {active} (cutover 2024-06-30) is in progress; one migration runs at a time"
        assert [e["status"] for e in status_events(sneaky)] == ["Error"]
    finally:
        migrations.query(f"UPDATE migrations SET status = 'Error', error = 'test over' WHERE migration_id = '{active}'")


def test_a_runner_killed_mid_migration_is_restarted_and_the_migration_completes_without_duplicates(migrations):
    migrations.seed(20000)
    in_scope = migrations.in_scope("2025-01-03")
    no_booking = migrations.count("SELECT COUNT(*) FROM rate_plan_charges WHERE created_on <= '2025-01-03' "
                                  "AND booking_date IS NULL")
    migration = migrations.start_migration("2025-01-03")
    before = migrations.wait_until(migration, lambda r: r["progress"] >= 5)
    assert migrations.kill("migration-runner") == -9
    killed_at = migrations.migration(migration)
    assert killed_at["status"] == "In progress" and killed_at["progress"] < 100, \
        f"the migration ended before the runner was killed: {killed_at}"
    done_when_killed = migrations.count(f"SELECT COUNT(done_at) FROM migration_slices WHERE migration_id = '{migration}'")

    migrations.start_runner()
    printed, row = migrations.wait(migration, timeout=240)
    assert row["status"] == "Completed-Warning", row
    assert row["progress"] == 100 and row["progress"] >= before["progress"]
    assert (row["schedules"], row["warnings"]) == (in_scope - no_booking, no_booking)
    # No schedule was written twice, and none is missing.
    assert migrations.count("SELECT COUNT(*) FROM revenue_schedules WHERE cutover_date = '2025-01-03'") == in_scope - no_booking
    assert migrations.count("SELECT MAX(version) FROM revenue_schedules WHERE cutover_date = '2025-01-03'") == 1
    assert migrations.count(f"SELECT COUNT(*) FROM migration_warnings WHERE migration_id = '{migration}'") == no_booking
    assert migrations.count(f"SELECT COUNT(*) FROM migration_slices WHERE migration_id = '{migration}' AND done_at IS NULL") == 0
    assert done_when_killed < migrations.count(f"SELECT COUNT(*) FROM migration_slices WHERE migration_id = '{migration}'")
    assert "taking over migration " + migration in migrations.log("migration-runner")
    assert_progress_never_falls(status_events(migration))


def test_two_runners_share_one_migration(migrations):
    migrations.start_runner(instance=1)
    migrations.seed(20000)
    migrations.give_every_charge_a_booking_date()
    migration = migrations.start_migration("2025-06-30")
    _, row = migrations.wait(migration, timeout=240)
    assert row["status"] == "Completed", row
    runners = migrations.query(f"SELECT applied_by, COUNT(*) FROM migration_slices WHERE migration_id = '{migration}' "
                               "GROUP BY applied_by")
    assert len(runners) == 2, f"one runner did every slice: {runners}"
    assert migrations.count("SELECT COUNT(*) FROM revenue_schedules WHERE cutover_date = '2025-06-30'") \
        == migrations.in_scope("2025-06-30")
    assert migrations.count("SELECT MAX(version) FROM revenue_schedules WHERE cutover_date = '2025-06-30'") == 1
    shown = migrations.cli("migration", "show", migration).stdout
    assert shown.count("Slices By:") == 2, shown
