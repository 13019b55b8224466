"""The migration stage (runners) for the end-to-end tests."""
import stage_support
from stage_support import Stage

# Short timings so a takeover or an Error takes seconds: a claim lapses after 5 s without renewal,
# and a store failing for 4 s ends a migration as Error. While the store is away a slice is retried
# with backoff (up to 30 s) and the runner polls no new message meanwhile: a poll interval longer than
# that keeps it in its group, so no request published meanwhile is skipped by a rejoin at "latest".
# Runners are paced at 50 slices a second: a 200-slice migration lasts at least 4 s, so a kill or a store
# failure issued once it shows progress certainly lands before its end.
RUNNER_OPTIONS = ["--slice-size", "100", "--lease", "5", "--error-after", "4", "-X", "max.poll.interval.ms=60000",
                  "--max-slices-per-second", "50"]


class Migrations(Stage):
    """Migration runners on one store, and the CLI pointed at it."""

    def start_runner(self, instance=0):
        self.start("migration-runner", *RUNNER_OPTIONS, instance=instance)

    def start_migration(self, cutover="2025-01-01", *extra):
        return self.cli("migration", "start", "--cutover", cutover, "--generated-by", "e2e", *extra).stdout.strip().splitlines()[0]

    def wait(self, migration, timeout=300):
        """Follows the migration to its end; returns what `migration wait` printed and the migration's row."""
        return self.wait_cli("migration", migration, timeout), self.migration(migration)

    def wait_until(self, migration, predicate, timeout=120):
        return self.poll_until(f"migration {migration}", lambda: self.migration(migration), predicate, timeout)

    def migration(self, migration):
        rows = self.query("SELECT status, progress, charges_in_scope, schedules_generated, warnings, error, start_time, "
                          f"end_time, generated_by, cutover_date FROM migrations WHERE migration_id = '{migration}'")
        if not rows:
            return None
        keys = ["status", "progress", "in_scope", "schedules", "warnings", "error", "start_time", "end_time",
                "generated_by", "cutover"]
        row = dict(zip(keys, rows[0]))
        for key in ("progress", "in_scope", "schedules", "warnings"):
            row[key] = None if row[key] is None else int(row[key])
        return row

    def count(self, sql):
        return int(self.query(sql)[0][0])

    def give_every_charge_a_booking_date(self):
        self.query("UPDATE rate_plan_charges SET booking_date = created_on WHERE booking_date IS NULL")

    def in_scope(self, cutover="2025-01-01"):
        return self.count(f"SELECT COUNT(*) FROM rate_plan_charges WHERE created_on <= '{cutover}'")


def publish_request(migration_id, payload):
    """Publishes a migration request by hand, as a script in another language would."""
    stage_support.publish("jobstream.migration.requests", migration_id, "migration.request", payload)


def status_events(migration_id, timeout=20):
    """Every status event of a migration on jobstream.migration.status, in order."""
    return stage_support.status_events("jobstream.migration.status", migration_id, timeout)


def dead_letter_errors(key, timeout=20):
    """Why each message keyed `key` was dead-lettered."""
    return stage_support.dead_letter_errors(key, timeout)
