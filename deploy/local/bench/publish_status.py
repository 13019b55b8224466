"""Publishes a history of status events for `make bench-dashboard`: SESSIONS sync history entries
spread over 30 days and five operations, BACKFILLS backfill statuses and MIGRATIONS migration
statuses, as the services would have left them on the compacted status topics, in the shape
their encoder writes.

Usage: publish_status.py BROKERS SESSIONS BACKFILLS MIGRATIONS"""
import json
import sys
from datetime import datetime, timedelta, timezone

from confluent_kafka import Producer

brokers, sessions, backfills, migrations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
producer = Producer({"bootstrap.servers": brokers, "linger.ms": 20, "enable.idempotence": True,
                     "queue.buffering.max.messages": 1_000_000})
start = datetime(2026, 10, 23, tzinfo=timezone.utc)
operations = ["Manual", "Scheduled", "Real-time", "On-demand", "Clean-up"]


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def send(topic, key, message_type, moment, payload):
    envelope = {"type": message_type, "version": "1.0", "jobId": key, "time": stamp(moment), "payload": payload}
    while True:
        try:
            # Written as the services' encoder writes: sorted keys, no spaces, UTF-8 unescaped.
            text = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            producer.produce(topic, key=key, value=text.encode())
            return
        except BufferError:
            producer.poll(0.1)


for n in range(sessions):
    began = start + timedelta(seconds=n * 30 * 86400 / max(sessions, 1))
    failed = 2 if n % 7 == 0 else 0
    send("jobstream.sync.history", f"bench-session-{n:07d}", "sync.history", began, {
        "operation": operations[n % 5], "status": "Finished with Errors" if failed else "Finished",
        "startedAt": stamp(began), "finishedAt": stamp(began + timedelta(seconds=40)), "recordsExpected": 40,
        "recordsSynced": 40 - failed, "recordsFailed": failed, "recordsToRetry": failed, "recordsNeedingFix": 0,
        "crmIdChanges": 0})
for n in range(backfills):
    began = start + timedelta(minutes=n)
    send("jobstream.backfill.status", f"bench-backfill-{n:05d}", "backfill.status", began, {
        "action": "update-rate-plan-charge", "uploadedFile": f"charges-{n}.csv", "generatedBy": "bench",
        "startDate": stamp(began), "endDate": stamp(began + timedelta(minutes=1)), "recordsProcessed": 5000,
        "recordsFailed": 3, "status": "Completed"})
for n in range(migrations):
    began = start + timedelta(hours=n)
    send("jobstream.migration.status", f"bench-migration-{n:04d}", "migration.status", began, {
        "startTime": stamp(began), "endTime": stamp(began + timedelta(minutes=5)), "generatedBy": "bench",
        "cutoverDate": "2025-01-01", "progress": 100, "status": "Completed", "chargesInScope": 20000,
        "schedulesGenerated": 20000, "warnings": 0})
assert producer.flush(120) == 0, "not every status event was acknowledged"
