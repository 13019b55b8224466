#!/usr/bin/env python3
"""Writes Shared/Dashboard/openapi.json, the dashboard API's OpenAPI 3.1 document (served at
/api/openapi.json and built into the dashboard). Edit the definitions here, run
`python3 deploy/local/generate-openapi.py`, and commit both; Tests/python/test_schemas.py checks that
the document is this script's output, the Swift route test that it lists exactly the API's routes.
An argument writes elsewhere (the test's check)."""
import json
import pathlib
import sys
S = lambda t: {"type": t}
N = lambda t: {"type": [t, "null"]}
ts = {"type": "string", "format": "date-time"}
nts = {"type": ["string", "null"], "format": "date-time"}
jobid = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"}
def obj(props, required=None, extra=True):
    o = {"type": "object", "properties": props}
    o["required"] = required if required is not None else list(props)
    return o
def ref(n): return {"$ref": "#/components/schemas/" + n}
backfill_status = {"type": "string", "enum": ["Accepted", "Pending", "Processing", "Paused", "Failed", "Completed", "Canceled"]}
migration_status = {"type": "string", "enum": ["Accepted", "In progress", "Error", "Completed", "Completed-Warning"]}
sync_status = {"type": "string", "enum": ["Running", "Finished", "Finished with Errors", "Failure"]}
sync_operation = {"type": "string", "enum": ["Manual", "Scheduled", "Real-time", "On-demand", "Clean-up"]}
always = {
    "jobId": S("string"), "action": S("string"), "uploadedFile": N("string"), "startDate": nts, "endDate": nts,
    "generatedBy": S("string"), "recordsProcessed": S("integer"), "recordsFailed": S("integer"), "status": backfill_status,
    "error": N("string"), "resultFile": N("string"), "updatedAt": ts, "cancelable": S("boolean"), "pausable": S("boolean"),
    "resumable": S("boolean"), "preview": S("boolean"), "applicable": S("boolean"), "revertible": S("boolean"),
}
optional = {
    "recordsTotal": S("integer"), "rowsPerSecond": S("integer"), "estimatedEnd": ts, "rowsValidated": S("integer"),
    "bytesValidated": S("integer"), "fileBytes": S("integer"), "pauseReason": S("string"), "reverts": S("string"),
    "revertedBy": S("string"), "wouldChange": S("integer"), "alreadyAsAsked": S("integer"), "wouldFail": S("integer"),
    "applies": S("string"), "appliedBy": S("string"), "approvedBy": S("string"),
}
backfill = obj({**always, **optional}, required=list(always))
backfill["description"] = "A backfill as its latest status event tells it: a line of the Backfill Logs."
migration = obj({
    "migrationId": S("string"), "startTime": nts, "endTime": nts, "generatedBy": S("string"),
    "cutoverDate": {"type": "string", "format": "date"}, "progress": S("integer"), "status": migration_status,
    "error": N("string"), "chargesInScope": N("integer"), "schedulesGenerated": N("integer"), "warnings": N("integer"),
    "updatedAt": ts, "preview": S("boolean")})
session = obj({
    "sessionId": S("string"), "operation": sync_operation, "status": sync_status, "startedAt": nts, "finishedAt": nts,
    "recordsExpected": N("integer"), "recordsSynced": S("integer"), "recordsFailed": S("integer"),
    "recordsToRetry": S("integer"), "recordsNeedingFix": S("integer"), "crmIdChanges": S("integer"),
    "failure": {"type": ["string", "null"], "enum": ["Database connection", "Storage", "CRM connection", None]},
    "failureReason": N("string"), "updatedAt": ts})
answer = obj({
    "jobId": S("string"), "kind": {"type": "string", "enum": ["backfill", "migration"]}, "action": S("string"),
    "by": S("string"), "requestedBy": S("string"), "status": S("string"), "of": S("string"),
    "details": S("string"), "events": S("string")}, required=["jobId", "kind", "action", "by", "requestedBy", "status", "details", "events"])
answer["description"] = "An action was logged: the job it started or changed, who the log names, and where to follow it."
audit_event = obj({
    "eventId": S("string"), "at": {"type": "integer", "description": "epoch milliseconds"}, "actor": S("string"),
    "role": {"type": "string", "enum": ["anonymous", "viewer", "operator", "approver"]}, "action": S("string"),
    "targetKind": S("string"), "targetId": S("string"), "outcome": S("string"), "detail": S("string"), "source": S("string")},
    required=["eventId", "at", "actor", "role", "action", "targetKind", "outcome"])
error = obj({"error": S("string")})
error["description"] = "What went wrong, in words a person can act on."

def err(desc): return {"description": desc, "content": {"application/json": {"schema": ref("Error")}}}
def ok_json(desc, schema, code="200"): return {code: {"description": desc, "content": {"application/json": {"schema": schema}}}}
E = {
    "400": err("The request cannot be used: the message says why."),
    "401": {**err("No token, or not one this dashboard accepts."), "headers": {"WWW-Authenticate": {"schema": S("string")}}},
    "403": err("The token's role may not do this, actions are off, or the request came from another site."),
    "404": err("No such job (or it has no such file yet)."),
    "409": err("The job is not in a state that allows this, or the job log refused it."),
    "413": err("The file is over the dashboard's --max-upload-bytes."),
    "503": err("The job log cannot be written now; try again."),
}
def errs(*codes): return {c: E[c] for c in codes}
job_param = {"name": "job", "in": "path", "required": True, "schema": jobid, "description": "The job id."}
mig_param = {"name": "migration", "in": "path", "required": True, "schema": jobid}
session_param = {"name": "session", "in": "path", "required": True, "schema": jobid}
viewing = errs("401")
sse = {"200": {"description": "Server-sent events: `event: status` with the job as JSON (the schema of its kind), now and at every change; the stream ends after the job's last status. Keep-alive comments in between.",
               "content": {"text/event-stream": {"schema": S("string")}}}}
csv = lambda d: {"200": {"description": d, "content": {"text/csv": {"schema": S("string")}}}}
def action_op(summary, desc, role, body_props, codes):
    op = {"summary": summary, "description": desc + f" Needs a token of the **{role}** role; goes to the audit trail.",
          "tags": ["backfill actions"], "parameters": [job_param],
          "responses": {**ok_json("The action is logged; the job's validator or processors act on it within seconds.", ref("ActionAnswer"), "202"), **errs(*codes)}}
    op["requestBody"] = {"required": False, "content": {"application/json": {"schema": {"type": "object", "properties": body_props}}}}
    return op
common = ("400", "401", "403", "404", "409", "503")
paths = {
    "/api/openapi.json": {"get": {"summary": "This document", "tags": ["reading"], "security": [],
        "responses": ok_json("The OpenAPI 3.1 document of this API.", {"type": "object"})}},
    "/api/backfills": {
        "get": {"summary": "Every backfill, newest first", "tags": ["reading"],
                "responses": {**ok_json("The Backfill Logs.", obj({"backfills": {"type": "array", "items": ref("BackfillSummary")}})), **viewing}},
        "post": {"summary": "Submit a backfill", "tags": ["backfill actions"],
                 "description": "The file is the request's body, stored as it arrives (never held whole in memory) under `uploads/<job>/<filename>`, then the job is logged and a validator takes it over within a third of its lease. A file-less action takes no body and no `filename`. Send `Content-MD5` (base64) or `md5` (hex) to have the file checked on arrival. The job's Generated By is the named token's name. Needs an **operator** token; goes to the audit trail.",
                 "parameters": [
                     {"name": "action", "in": "query", "required": True, "schema": {"type": "string", "enum": ["update-rate-plan-charge", "update-invoice-item", "booking-date-from-created"]}},
                     {"name": "filename", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 255, "pattern": "^[^/\\\\]+\\.(csv|zip|CSV|ZIP)$"}, "description": "The file's name, ending .csv or .zip; required for an action that takes a file."},
                     {"name": "preview", "in": "query", "required": False, "schema": {"type": "boolean", "default": False}, "description": "A dry run: nothing is written; apply it with POST /api/backfills/{job}/apply."},
                     {"name": "maxFailed", "in": "query", "required": False, "schema": {"type": "string", "examples": ["500", "2.5%"]}, "description": "The failure brake."},
                     {"name": "rate", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}, "description": "The most rows per second."},
                     {"name": "md5", "in": "query", "required": False, "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$"}},
                     {"name": "webhook", "in": "query", "required": False, "schema": {"type": "array", "maxItems": 5, "items": {"type": "string", "pattern": "^https?://", "maxLength": 2048}}, "style": "form", "explode": True, "description": "An address the job's end is also sent to (repeat for more); only those the deployment allows (--webhook-allow) are."},
                 ],
                 "requestBody": {"required": False, "description": "The file: a .csv, or a .zip holding one.",
                                 "content": {"text/csv": {"schema": {"type": "string"}}, "application/zip": {"schema": {"type": "string", "format": "binary"}},
                                             "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                 "responses": {**ok_json("The job is logged.", ref("ActionAnswer"), "202"), **errs("400", "401", "403", "409", "413", "503")}}},
    "/api/backfills/{job}": {"get": {"summary": "One backfill", "tags": ["reading"], "parameters": [job_param],
        "responses": {**ok_json("The backfill.", ref("BackfillSummary")), **errs("401", "404")}}},
    "/api/backfills/{job}/events": {"get": {"summary": "Follow one backfill", "tags": ["reading"], "parameters": [job_param],
        "responses": {**sse, **errs("401", "404")}}},
    "/api/backfills/{job}/result": {"get": {"summary": "The result file (a preview's preview file)", "tags": ["reading"], "parameters": [job_param],
        "responses": {**csv("The file as written: every row with Success and Error Message (a preview: the current values and Would Change)."), **errs("401", "404")}}},
    "/api/backfills/{job}/webhooks": {"get": {"summary": "The job's webhook deliveries", "tags": ["reading"], "parameters": [job_param],
        "responses": {**ok_json("Each delivery owed: where (scheme and host only), which event, its attempts and state.", obj({"deliveries": {"type": "array", "items": obj({
            "to": S("string"), "event": S("string"), "attempts": S("integer"), "lastStatus": S("integer"), "lastError": S("string"),
            "createdAt": S("integer"), "nextAttemptAt": S("integer"), "deliveredAt": S("integer"), "gaveUpAt": S("integer")},
            required=["to", "event", "attempts", "createdAt"])}})), **errs("401", "404")}}},
    "/api/backfills/{job}/failures": {"get": {"summary": "The failed rows of the result file", "tags": ["reading"], "parameters": [job_param],
        "responses": {**csv("The header and every row whose Success is not true."), **errs("401", "404")}}},
    "/api/backfills/{job}/apply": {"post": action_op("Approve and apply a preview", "Starts a job that applies the Completed preview `job`, approved by the token's name (never the preview's own Generated By). Rows whose record changed since the preview are refused unless `overwriteChanged`.", "approver", {"overwriteChanged": S("boolean")}, common)},
    "/api/backfills/{job}/pause": {"post": action_op("Pause", "No further chunk is applied until the job is resumed.", "operator", {}, common)},
    "/api/backfills/{job}/resume": {"post": action_op("Resume", "Applies the chunks not applied yet; `maxFailed` sets a new failure brake.", "operator", {"maxFailed": S("string")}, common)},
    "/api/backfills/{job}/rate": {"post": action_op("Set the rate limit", "The most rows per second the job may apply, however many processors run; `null` lifts the limit.", "operator", {"rowsPerSecond": {"type": ["integer", "null"], "minimum": 1}}, common)},
    "/api/backfills/{job}/cancel": {"post": action_op("Cancel", "The job stops before its next chunk and ends Canceled. With the shared operator token, `requestedBy` names who asks; a named token is its own name.", "operator", {"requestedBy": {"type": "string", "maxLength": 80}}, common)},
    "/api/backfills/{job}/revert": {"post": action_op("Revert", "Starts a job that puts back what `job` changed, on records still as it left them unless `overwriteChanged`.", "operator", {"overwriteChanged": S("boolean")}, common)},
    "/api/backfills/{job}/retry": {"post": action_op("Retry the failed rows", "Starts a job of only the rows of `job` that failed or were not processed, with their original columns.", "operator", {}, common)},
    "/api/migrations": {
        "get": {"summary": "Every migration, newest first", "tags": ["reading"],
                "responses": {**ok_json("The Migration Logs.", obj({"migrations": {"type": "array", "items": ref("MigrationSummary")}})), **viewing}},
        "post": {"summary": "Start a migration", "tags": ["migration actions"],
                 "description": "Generates revenue schedules from the charges for a cutover date; `preview` counts and warns without writing a schedule. One migration runs at a time. Needs an **operator** token; goes to the audit trail.",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": obj({"cutoverDate": {"type": "string", "format": "date"}, "preview": S("boolean")}, required=["cutoverDate"])}}},
                 "responses": {**ok_json("The migration is logged; a migration runner takes it over within a third of its lease.", ref("ActionAnswer"), "202"), **errs("400", "401", "403", "409", "503")}}},
    "/api/migrations/{migration}": {"get": {"summary": "One migration with its warnings", "tags": ["reading"],
        "parameters": [mig_param, {"name": "warnings", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}}],
        "responses": {**ok_json("The migration.", obj({"migration": ref("MigrationSummary"), "warnings": {"type": "array", "items": obj({"chargeId": S("string"), "reason": S("string")})}})), **errs("400", "401", "404")}}},
    "/api/migrations/{migration}/events": {"get": {"summary": "Follow one migration", "tags": ["reading"], "parameters": [mig_param],
        "responses": {**sse, **errs("401", "404")}}},
    "/api/sync": {"get": {"summary": "The Sync History", "tags": ["reading"], "parameters": [
        {"name": "from", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
        {"name": "to", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
        {"name": "operation", "in": "query", "required": False, "schema": {"type": "string", "enum": ["All", "Manual", "Scheduled", "Real-time", "On-demand", "Clean-up"]}},
        {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1000}}],
        "responses": {**ok_json("The newest `limit` of the `matching` sessions.", obj({"sessions": {"type": "array", "items": ref("SyncSession")}, "matching": S("integer")})), **errs("400", "401")}}},
    "/api/sync/{session}": {"get": {"summary": "One sync session", "tags": ["reading"],
        "parameters": [session_param, {"name": "records", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}}],
        "responses": {**ok_json("The session, its failed records and CRM id changes.", obj({
            "session": ref("SyncSession"),
            "failedRecords": {"type": "array", "items": obj({"objectType": S("string"), "objectId": S("string"), "crmId": N("string"), "errorCode": S("string"), "errorMessage": N("string"), "retry": {"type": "string", "enum": ["Automatic", "Manual fix"]}}, required=["objectType", "objectId", "errorCode", "retry"])},
            "crmIdChanges": {"type": "array", "items": obj({"objectType": S("string"), "objectId": S("string"), "previousCrmId": S("string"), "newCrmId": S("string")})}})), **errs("400", "401", "404")}}},
    "/api/audit": {"get": {"summary": "The audit trail, newest first", "tags": ["reading"],
        "description": "Every action asked of the dashboard and its API, taken or refused: who, their role, what, of which job, when, from where. Needs an **operator** or **approver** token.",
        "parameters": [
            {"name": "job", "in": "query", "required": False, "schema": jobid},
            {"name": "actor", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200}},
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}}],
        "responses": {**ok_json("The entries.", obj({"events": {"type": "array", "items": ref("AuditEvent")}})), **errs("400", "401", "403")}}},
}
doc = {
    "openapi": "3.1.0",
    "info": {"title": "jobstream dashboard API", "version": "1.2.0",
             "description": "Jobs over HTTP: submit backfills with their files, preview, approve and apply them, pause, resume, rate, cancel, revert and retry them, start migrations, and read and follow all three logs. Tokens come as `Authorization: Bearer TOKEN`; a named token's name is who the job log and the audit trail say acted. Errors are `{\"error\": \"...\"}` with the status code."},
    "servers": [{"url": "http://127.0.0.1:8080"}],
    "security": [{"bearer": []}, {}],
    "paths": paths,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A named token (`jobstream token new`), or the shared operator or viewer token."}},
        "schemas": {"Error": error, "BackfillSummary": backfill, "MigrationSummary": migration, "SyncSession": session,
                    "ActionAnswer": answer, "AuditEvent": audit_event}},
}
ROOT = pathlib.Path(__file__).resolve().parents[2]
target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "Shared" / "Dashboard" / "openapi.json"
target.write_text(json.dumps(doc, indent=2) + "\n")
