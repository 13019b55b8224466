"""The sync-history stage (recorders) and the sync-engine simulator for the end-to-end tests."""
import json
import uuid

import stage_support
from stage_support import Stage

# A poll interval long enough for a batch retried while the store is busy.
RECORDER_OPTIONS = ["-X", "max.poll.interval.ms=60000"]


class SyncHistory(Stage):
    """Sync-history recorders on one store, the CLI pointed at it, and the simulator."""

    def start_recorder(self, instance=0, *options):
        self.start("sync-history-recorder", *RECORDER_OPTIONS, *options, instance=instance)

    def simulate(self, *options, sessions=5, records=20):
        """Publishes simulated sessions; returns the simulator's plan of each, by session id."""
        prefix = f"e2e-{uuid.uuid4().hex[:8]}"
        result = self.cli("sync", "simulate", "--sessions", str(sessions), "--records", str(records), "--prefix", prefix,
                          "--json", *options)
        planned = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        assert len(planned) == sessions, result.stdout + result.stderr
        return {p["sessionId"]: p for p in planned}

    def session(self, session_id):
        rows = self.query("SELECT status, operation, records_synced, records_failed, records_to_retry, crm_id_changes, "
                          f"started_at, finished_at FROM sync_sessions WHERE session_id = '{session_id}'")
        if not rows:
            return None
        keys = ["status", "operation", "synced", "failed", "to_retry", "crm_id_changes", "started_at", "finished_at"]
        row = dict(zip(keys, rows[0]))
        for key in ("synced", "failed", "to_retry", "crm_id_changes"):
            row[key] = int(row[key])
        return row

    def wait_ended(self, session_ids, timeout=120):
        """Waits until every session has a final status; returns their rows by id."""
        ids = ", ".join(f"'{s}'" for s in session_ids)
        self.poll_until(f"sessions {sorted(session_ids)[:3]}…",
                        lambda: self.count(f"SELECT COUNT(*) FROM sync_sessions WHERE session_id IN ({ids}) "
                                           "AND status <> 'Running'") or None,
                        lambda ended: ended == len(session_ids), timeout)
        return {s: self.session(s) for s in session_ids}

    def count(self, sql):
        return int(self.query(sql)[0][0])

    def history_ids(self, *filters):
        """The session ids `jobstream sync history` lists, in its order."""
        lines = self.cli("sync", "history", *filters, "--limit", "1000").stdout.splitlines()
        return [line.split()[0] for line in lines[1:] if line.strip() and not line.startswith("(")]


def publish_event(session_id, message_type, payload):
    """Publishes a sync event by hand, as a sync engine in another language would."""
    stage_support.publish("jobstream.sync.events", session_id, message_type, payload)


def summaries(session_id, timeout=20):
    """Every message keyed by the session on the sync history topic: a summary, or None for a tombstone."""
    return [None if value is None else json.loads(value)["payload"]
            for _, value in stage_support.messages("jobstream.sync.history", session_id, timeout)]


def retry_requests(session_id, timeout=20):
    """Every retry request of the session on the retries topic."""
    return [json.loads(value)["payload"] for _, value in stage_support.messages("jobstream.sync.retries", session_id, timeout)]
