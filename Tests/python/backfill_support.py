"""The backfill stage (validators and processors) for the end-to-end tests."""
import csv
import signal
import subprocess
import time
import io
import uuid

import stage_support
from stage_support import Stage


class Backfills(Stage):
    """Validators and processors on one store, and the CLI pointed at it."""

    def start(self, name, instance=0, lease=5, extra=()):
        options = ["--lease", str(lease)] if name == "backfill-validator" else []
        super().start(name, *options, *extra, instance=instance)

    def submit(self, action, file=None, *extra):
        args = ["backfill", "submit", "--action", action, "--generated-by", "e2e"]
        if file is not None:
            args += ["--file", str(file)]
        return self.cli(*args, *extra).stdout.strip().splitlines()[0]

    def wait(self, job, timeout=300):
        """Follows the job to its end; returns the statuses printed on the way and the job's row."""
        return self.wait_cli("backfill", job, timeout), self.job(job)

    def wait_until(self, job, predicate, timeout=120):
        return self.poll_until(f"backfill {job}", lambda: self.job(job), predicate, timeout)

    def result_rows(self, job):
        out = self.tmp / f"result-{uuid.uuid4().hex[:6]}.csv"
        self.cli("backfill", "download", job, "-o", str(out))
        with open(out, newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))

    def job(self, job):
        rows = self.query("SELECT status, records_processed, records_failed, records_total, error, result_path, retry_of, "
                          f"retried_by, uploaded_file, reverts, reverted_by FROM backfill_jobs WHERE job_id = '{job}'")
        if not rows:
            return None
        keys = ["status", "processed", "failed", "total", "error", "result_path", "retry_of", "retried_by", "uploaded_file",
                "reverts", "reverted_by"]
        row = dict(zip(keys, rows[0]))
        for key in ("processed", "failed", "total"):
            row[key] = None if row[key] is None else int(row[key])
        return row

    def charges(self):
        """Every charge with every field but its version, in id order."""
        return self.query("SELECT id, charge_number, subscription_number, created_on, booking_date, accounting_code, "
                          "revenue_recognition_rule, amount, service_start_date, service_end_date FROM rate_plan_charges "
                          "ORDER BY id")

    def versions(self, ids):
        quoted = ", ".join(f"'{i}'" for i in ids)
        return {i: int(v) for i, v in self.query(f"SELECT id, version FROM rate_plan_charges WHERE id IN ({quoted})")}


def publish_request(job_id, payload, topic="jobstream.backfill.requests"):
    """Publishes a backfill request by hand, as a script in another language would."""
    stage_support.publish(topic, job_id, "backfill.request", payload)


def status_events(job_id, timeout=20):
    """Every status event of a backfill on jobstream.backfill.status, in order."""
    return stage_support.status_events("jobstream.backfill.status", job_id, timeout)


def write_csv(path, rows, bom=False, newline="\r\n"):
    """Writes rows as RFC 4180 CSV (quoting as needed) and returns the path."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    data = buffer.getvalue().encode()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


POISON_TABLES = {"backfill_jobs": "job_id", "migrations": "migration_id", "sync_sessions": "session_id"}


def install_poison_triggers(stage):
    """Makes the store refuse, every time, a job, migration or sync session whose id starts with
    `poison-`: a message that is well-formed but can never be handled (the store's refusal is what
    the services see when, say, a value breaks one of its rules)."""
    for table, column in POISON_TABLES.items():
        if stage.is_postgres:
            stage.psql(f"""
                CREATE OR REPLACE FUNCTION fault_refuse_{table}() RETURNS trigger AS $$
                BEGIN
                  IF NEW.{column} LIKE 'poison-%' THEN RAISE EXCEPTION 'refused by the fault suite'; END IF;
                  RETURN NEW;
                END $$ LANGUAGE plpgsql;
                DROP TRIGGER IF EXISTS fault_refuse ON {table};
                CREATE TRIGGER fault_refuse BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fault_refuse_{table}();""")
        else:
            stage.query(f"""
                CREATE TRIGGER IF NOT EXISTS fault_refuse_{table} BEFORE INSERT ON {table}
                WHEN NEW.{column} LIKE 'poison-%' BEGIN SELECT RAISE(ABORT, 'refused by the fault suite'); END""")


def row_is_free(stage, job):
    """Whether nobody holds a lock that keeps the job's row from being written right now (a process
    paused inside a statement would block every takeover until it resumes)."""
    if stage.is_postgres:
        result = subprocess.run(["psql", stage.store, "-v", "ON_ERROR_STOP=1", "-qtAX", "-c",
                                 f"BEGIN; SELECT 1 FROM backfill_jobs WHERE job_id = '{job}' FOR UPDATE NOWAIT; ROLLBACK;"],
                                capture_output=True, text=True, timeout=30)
        return result.returncode == 0
    import sqlite3
    try:
        connection = sqlite3.connect(stage.store, timeout=0.5, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        connection.close()
        return True
    except sqlite3.OperationalError:
        return False


def pause_outside_statements(stage, process, job):
    """SIGSTOPs `process` at a moment it holds no lock on the job's row (on SQLite, no write lock at
    all): a process paused inside a transaction would block every other one until it resumed. Pause
    several processes one after another, each with this."""
    process.send_signal(signal.SIGSTOP)
    while not row_is_free(stage, job):
        process.send_signal(signal.SIGCONT)
        time.sleep(0.05)
        process.send_signal(signal.SIGSTOP)


Backfills.install_poison_triggers = install_poison_triggers
Backfills.row_is_free = row_is_free
Backfills.pause_outside_statements = pause_outside_statements
