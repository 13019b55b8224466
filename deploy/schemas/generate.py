#!/usr/bin/env python3
"""Writes one JSON Schema per jobstream topic (TOPIC.schema.json) from the message definitions below.

The definitions mirror Shared/Messages/*.swift; Tests/python/test_schemas.py checks every example the
Swift codec writes against these files, and that the files are what this script writes.
Run: python3 deploy/schemas/generate.py
"""
import json
import pathlib

STRING = {"type": "string"}
NONEMPTY = {"type": "string", "minLength": 1}
INT = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time", "description": "RFC 3339 time in UTC, e.g. 2026-11-22T10:00:00.000Z"}
DATE = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "a calendar date, YYYY-MM-DD"}
SEQUENCE = {"type": "integer", "minimum": 1,
            "description": "the number of this state of the job, growing with every change: keep the event with the "
                           "highest one, and ignore an older one arriving late"}
# Ids: backfill and migration ids follow one rule (they name folders in the file store); sync session
# ids and other keys are bounded in UTF-8 bytes (JSON Schema counts characters, so these are the
# character bounds that keep within the byte bounds for ASCII; the services check bytes).
JOB_ID = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$",
          "description": "1 to 100 letters, digits, '.', '_', '-' or ':', starting with a letter or a digit"}
SESSION_ID = {"type": "string", "minLength": 1, "maxLength": 200, "description": "at most 200 UTF-8 bytes, no control characters"}
KEY = {"type": "string", "minLength": 1, "maxLength": 200}
NAME = {"type": "string", "maxLength": 200}
TEXT = {"type": "string", "maxLength": 4096}


def obj(required, optional=None, description=None):
    """An object with required and optional properties; unknown properties are allowed (ignored by readers)."""
    schema = {"type": "object", "required": sorted(required), "properties": {**required, **(optional or {})}}
    if description:
        schema["description"] = description
    return schema


def array(items):
    return {"type": "array", "items": items}


def enum(*values, description=None):
    schema = {"enum": list(values)}
    if description:
        schema["description"] = description
    return schema


ACTION = {"type": "string", "minLength": 1, "maxLength": 100}
FILE = obj({"path": {"type": "string", "minLength": 1, "maxLength": 1024}, "name": {"type": "string", "minLength": 1, "maxLength": 255}},
           {"sizeBytes": COUNT},
           "a file in the file store; path is relative to the store's root")
BACKFILL_STATUS = enum("Accepted", "Pending", "Processing", "Paused", "Failed", "Completed", "Canceled")
MIGRATION_STATUS = enum("Accepted", "In progress", "Error", "Completed", "Completed-Warning")
SYNC_STATUS = enum("Running", "Finished", "Finished with Errors", "Failure")
SYNC_FAILURE = enum("Database connection", "Storage", "CRM connection")
SYNC_OPERATION = enum("Manual", "Scheduled", "Real-time", "On-demand", "Clean-up")

PAYLOADS = {
    "backfill.request": obj(
        {"action": ACTION, "generatedBy": NAME},
        {"file": FILE, "md5": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$"}, "retryOf": JOB_ID,
         "reverts": {**JOB_ID, "description": "a revert: the job whose changes to put back (action is that job's; no file)"},
         "overwriteChanged": {**BOOL, "description": "a revert puts back records changed since the job too"},
         "maxFailed": {"type": "string", "pattern": r"^([0-9]{1,12}|[0-9]{1,2}(\.[0-9]+)?%)$",
                       "description": "the failure brake: past this many failed rows, or this percentage of the rows "
                                      "with an outcome, the job goes Paused"},
         "ratePerSecond": {"type": "integer", "minimum": 1, "description": "the most rows per second the job may apply"},
         "preview": {**BOOL, "description": "a preview (dry run): validate and read what each row would change; write "
                                            "no record"},
         "applies": {**JOB_ID, "description": "an apply: the Completed preview whose file to apply (action and file "
                                              "are that preview's); overwriteChanged then applies rows whose record "
                                              "changed since the preview"},
         "approvedBy": {**NAME, "description": "who approved applying the preview: someone other than its generatedBy"},
         "webhooks": {"type": "array", "maxItems": 5, "items": {"type": "string", "maxLength": 2048, "pattern": "^https?://"},
                      "description": "addresses the job's final status event is also sent to, signed; only those the "
                                     "deployment allows (--webhook-allow) are"}},
        "a request to run a backfill; file is absent for a file-less action, a revert and an apply"),
    "backfill.status": obj(
        {"action": ACTION, "generatedBy": NAME, "recordsProcessed": COUNT, "recordsFailed": COUNT,
         "status": BACKFILL_STATUS},
        {"uploadedFile": {"type": "string", "maxLength": 255}, "startDate": TIME, "endDate": TIME, "error": TEXT,
         "resultFile": FILE,
         "sequence": SEQUENCE,
         "reverts": {**JOB_ID, "description": "\"Reverts\": the job whose changes this job puts back"},
         "revertedBy": {**JOB_ID, "description": "\"Reverted By\": the job that put this job's changes back"},
         "pauseReason": {**TEXT, "description": "why the job is Paused (an operator paused it, or its failure brake "
                                                "stopped it), while it is"},
         "recordsTotal": {**COUNT, "description": "data rows in the file, once validated"},
         "rowsValidated": {**COUNT, "description": "while Pending: rows of the file validation has read"},
         "bytesValidated": {**COUNT, "description": "while Pending: bytes of the file validation has read"},
         "fileBytes": {**COUNT, "description": "the uploaded file's size in bytes"},
         "rowsPerSecond": {**COUNT, "description": "while Processing: rows given an outcome per second lately"},
         "estimatedEnd": {**TIME, "description": "while Processing: when the job should end at its current pace "
                                                 "(RFC 3339 time in UTC)"},
         "preview": {**BOOL, "description": "true for a preview: a dry run that writes no record; its resultFile is "
                                            "the preview file"},
         "wouldChange": {**COUNT, "description": "a preview that ended: rows that would change their record"},
         "alreadyAsAsked": {**COUNT, "description": "a preview that ended: rows whose record already holds what "
                                                    "they ask"},
         "wouldFail": {**COUNT, "description": "a preview that ended: rows that would fail"},
         "applies": {**JOB_ID, "description": "\"Applies\": the preview this job applies"},
         "appliedBy": {**JOB_ID, "description": "\"Applied By\": the job that applied this preview"},
         "approvedBy": {**NAME, "description": "\"Approved By\": who approved applying the preview"}},
        "every field of the Backfill Logs page; the latest event per job is the job's log line"),
    "backfill.chunk": obj(
        {"chunkIndex": COUNT, "action": ACTION,
         "columns": array(STRING),
         "rows": array({"type": "array", "prefixItems": [COUNT], "items": {"type": ["string", "null"]}, "minItems": 1})},
        None, "validated rows of a backfill file, for the processors: each row is its row number followed by "
              "one value per column (null: the row leaves that column unset)"),
    "migration.request": obj({"cutoverDate": DATE, "generatedBy": NAME},
                             {"preview": {**BOOL, "description": "a preview (dry run): count the charges in scope, the "
                                                                 "schedules it would generate and every warning; write no "
                                                                 "schedule"}},
                             "a request to run a migration"),
    "migration.status": obj(
        {"generatedBy": NAME, "cutoverDate": DATE, "progress": {"type": "integer", "minimum": 0, "maximum": 100},
         "status": MIGRATION_STATUS},
        {"startTime": TIME, "endTime": TIME, "error": TEXT, "chargesInScope": COUNT, "schedulesGenerated": COUNT,
         "warnings": COUNT, "sequence": SEQUENCE,
         "preview": {**BOOL, "description": "true for a preview: schedulesGenerated counts the schedules it would "
                                            "generate; none is written"}},
        "every field of the Migration Logs page"),
    "migration.slice": obj({"sliceIndex": COUNT, "sliceCount": {"type": "integer", "minimum": 1}, "cutoverDate": DATE},
                           None, "a share of a migration for any runner"),
    "sync.session-started": obj({"operation": SYNC_OPERATION, "startedAt": TIME}, None, "a sync session opened"),
    "sync.record-outcome": obj(
        {"objectType": KEY, "objectId": KEY, "success": BOOL, "retryable": BOOL},
        {"crmId": NAME, "errorCode": NAME,
         "errorMessage": {"type": "string", "description": "kept up to 4096 UTF-8 bytes (longer ones are cut, saying so)"},
         "crmIdChange": obj({"previousCrmId": NAME, "newCrmId": NAME})},
        "one record's outcome in a session"),
    "sync.session-finished": obj({"finishedAt": TIME, "recordCount": COUNT}, None,
                                 "a session closed normally after reporting recordCount record outcomes"),
    "sync.session-failed": obj({"failedAt": TIME, "failure": SYNC_FAILURE, "reason": STRING}, None,
                               "a system failure ended a session"),
    "sync.history": obj(
        {"operation": SYNC_OPERATION, "status": SYNC_STATUS, "recordsSynced": COUNT, "recordsFailed": COUNT,
         "recordsToRetry": COUNT, "recordsNeedingFix": COUNT, "crmIdChanges": COUNT},
        {"startedAt": TIME, "finishedAt": TIME, "recordsExpected": COUNT, "failure": SYNC_FAILURE,
         "failureReason": STRING},
        "a session's line in the Sync History; a message with a null value (a tombstone) means retention "
        "deleted the session"),
    "sync.retry": obj(
        {"scope": enum("records", "session"), "operation": SYNC_OPERATION,
         "records": array(obj({"objectType": NONEMPTY, "objectId": NONEMPTY})),
         "part": {"type": "integer", "minimum": 1}, "partCount": {"type": "integer", "minimum": 1}},
        None, "what the next sync session retries: the failed records, or the whole session after a Failure"),
}

TOPICS = {
    "jobstream.backfill.requests": ["backfill.request"],
    "jobstream.backfill.chunks": ["backfill.chunk"],
    "jobstream.backfill.status": ["backfill.status"],
    "jobstream.migration.requests": ["migration.request"],
    "jobstream.migration.slices": ["migration.slice"],
    "jobstream.migration.status": ["migration.status"],
    "jobstream.sync.events": ["sync.session-started", "sync.record-outcome", "sync.session-finished",
                              "sync.session-failed"],
    "jobstream.sync.history": ["sync.history"],
    "jobstream.sync.retries": ["sync.retry"],
}


def topic_schema(topic, types):
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:jobstream:schema:{topic}",
        "title": f"Messages on {topic}",
        "description": "A jobstream envelope. The Kafka key is the jobId. Readers ignore unknown fields and "
                       "refuse a major version newer than they know.",
        "type": "object",
        "required": ["type", "version", "jobId", "time", "payload"],
        "properties": {
            "type": enum(*types),
            "version": {"type": "string", "pattern": r"^1\.[0-9]+$", "description": "MAJOR.MINOR schema version"},
            "jobId": SESSION_ID if topic.startswith("jobstream.sync.") else JOB_ID,
            "time": TIME,
            "payload": {"type": "object"},
        },
        "allOf": [
            {"if": {"properties": {"type": {"const": t}}},
             "then": {"properties": {"payload": {"$ref": f"#/$defs/{t}"}}}}
            for t in types
        ],
        "$defs": {t: PAYLOADS[t] for t in types},
    }


def render(topic):
    return json.dumps(topic_schema(topic, TOPICS[topic]), indent=2, sort_keys=True) + "\n"


SCHEMA_FOLDER = pathlib.Path(__file__).resolve().parent


def main():
    for topic in TOPICS:
        (SCHEMA_FOLDER / f"{topic}.schema.json").write_text(render(topic))


if __name__ == "__main__":
    main()
