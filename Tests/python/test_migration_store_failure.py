"""A migration whose store goes away mid-run ends in Error with the reason, and the runner recovers
when the store comes back. The store is taken away by refusing connections to the PostgreSQL
database and ending the runner's session (an SQLite file cannot be taken from a process that has it
open), so this module runs on PostgreSQL only: JOBSTREAM_E2E_POSTGRES_URL, which `make test` and CI set."""
import os

import pytest

from stage_support import store_for
from migration_support import RUNNER_OPTIONS, Migrations, status_events

POSTGRES = os.environ.get("JOBSTREAM_E2E_POSTGRES_URL")


@pytest.fixture(scope="module")
def migrations(topics, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("migration-store-failure")
    store = store_for("postgres", tmp, POSTGRES, "the store-failure test")
    stage = Migrations(tmp, store)
    try:
        stage.seed(100)
        # Paced so that the migration cannot end before the store is taken away: its 200 slices
        # take at least 20 s, and the store goes within a second or two of 5%.
        options = [o for o in RUNNER_OPTIONS if o not in ("--max-slices-per-second", "50")]
        stage.start("migration-runner", *options, "--max-slices-per-second", "10")
        yield stage
    finally:
        stage.stop_all()


def test_a_migration_ends_in_error_when_the_store_goes_away_and_the_runner_recovers(migrations):
    migrations.seed(20000)
    migration = migrations.start_migration("2025-01-01")
    migrations.wait_until(migration, lambda r: r["progress"] >= 5)
    database = migrations.store.rsplit("/", 1)[1]
    admin = migrations.store.rsplit("/", 1)[0] + "/postgres"
    migrations.psql(f"ALTER DATABASE {database} ALLOW_CONNECTIONS false", url=admin)
    try:
        # Only the runner's sessions: an autovacuum worker on the freshly seeded table may be there too,
        # and it is not ours to end.
        migrations.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        f"WHERE datname = '{database}' AND usename = current_user AND backend_type = 'client backend'",
                        url=admin)
        events = []
        for _ in range(3):
            events = status_events(migration, timeout=20)
            if events and events[-1]["status"] == "Error":
                break
        assert events[-1]["status"] == "Error", [e["status"] for e in events]
        assert events[-1]["error"].startswith("the store failed for "), events[-1]
        assert events[-1]["progress"] > 0 and events[-1]["endTime"]
        progress = [e["progress"] for e in events]
        assert progress == sorted(progress), f"the Error event's progress fell back: {progress}"
    finally:
        migrations.psql(f"ALTER DATABASE {database} ALLOW_CONNECTIONS true", url=admin)
    row = migrations.wait_until(migration, lambda r: r["status"] == "Error", timeout=60)
    assert row["error"].startswith("the store failed for ")

    # The runner reconnects: the next migration runs to its end.
    again = migrations.start_migration("2025-01-01")
    _, row = migrations.wait(again, timeout=240)
    assert row["status"] == "Completed-Warning", row
    assert migrations.count("SELECT MAX(version) FROM revenue_schedules") == 2, "the re-run replaced the schedules"
