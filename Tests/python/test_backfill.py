"""Backfills end to end: the CLI, the validator and processors, a real broker and a real database
(SQLite, and PostgreSQL when JOBSTREAM_E2E_POSTGRES_URL is set — `make test` and CI set it)."""
import hashlib
import json
import os
import re
import signal
import zipfile

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from stage_support import messages, object_store, store_for
from backfill_support import Backfills, publish_request, status_events, write_csv

NOT_PROCESSED = "not processed: the job was canceled before this row was applied"
POSTGRES = os.environ.get("JOBSTREAM_E2E_POSTGRES_URL")
# Processors are paced, so a 100-chunk job lasts at least 100 / (10 × processors) seconds: a cancel or a
# kill issued once some rows are processed certainly lands before the job's end.
PACED = ("--max-chunks-per-second", "10")


pytestmark = pytest.mark.usefixtures("topics")


@pytest.fixture(scope="module", params=["sqlite", "postgres", "sqlite-s3"])
def backfills(request, tmp_path_factory):
    """The stage on each database with a folder file store, and on SQLite with the file store in S3."""
    tmp = tmp_path_factory.mktemp(request.param)
    database, _, files = request.param.partition("-")
    store = store_for(database, tmp, POSTGRES, "the backfill tests")
    stage = Backfills(tmp, store, objects=object_store("the backfill tests") if files == "s3" else None)
    try:
        stage.seed(2000, 500)
        stage.start("backfill-validator")
        stage.start("backfill-processor", extra=PACED)
        yield stage
    finally:
        stage.stop_all()


def test_file_rows_are_applied_and_the_result_file_has_every_row(backfills, tmp_path):
    backfills.seed(2000, 500)
    rows = [
        ["Charge Id", "Booking Date", "Amount", "Note"],
        ["RPC-00000001", "2024-01-31", "100.50", "plain"],
        ["RPC-00000002", "2024-02-30", "1", "bad date"],
        ["RPC-00000003", "2024-03-01", "1,5", "comma, and \"quotes\""],
        ["", "2024-03-01", "1", "no key"],
        ["RPC-00000004", "2024-04-01", "", "line\nbreak"],
        ["RPC-00000005", "2024-05-01", "5", "dup 1"],
        ["RPC-00000005", "2024-05-02", "5", "dup 2"],
        ["RPC-09999999", "2024-06-01", "6", "no such record"],
        ["RPC-00000006", "", "", "nothing to set"],
        ["RPC-00000007", "2024-07-01"],
        ["RPC-00000008", "", "88.80", "amount only"],
    ]
    path = write_csv(tmp_path / "charges.csv", rows, bom=True)
    job = backfills.submit("update-rate-plan-charge", path)
    printed, row = backfills.wait(job)
    assert row["status"] == "Completed", row
    assert "Completed" in printed
    assert (row["total"], row["processed"], row["failed"]) == (11, 11, 8)

    result = backfills.result_rows(job)
    assert result[0] == rows[0] + ["Success", "Error Message"]
    width = len(rows[0])
    padded = [row + [""] * (width - len(row)) for row in rows[1:]]
    assert [r[:width] for r in result[1:]] == padded, "every row, in order, with its original columns (a short one padded)"
    assert all(len(r) == width + 2 for r in result), "Success and Error Message always stand under their names"
    by_row = [(r[width], r[width + 1]) for r in result[1:]]
    assert by_row[0] == ("true", "")
    assert by_row[1] == ("false", 'Booking Date: "2024-02-30" is not a date written YYYY-MM-DD')
    assert by_row[2] == ("false", 'Amount: "1,5" is not a decimal number such as 1200.50')
    assert by_row[3] == ("false", "Charge Id is required")
    assert by_row[4] == ("true", "")
    assert by_row[5][0] == by_row[6][0] == "false" and "appears on 2 rows of the file (rows 6, 7)" in by_row[5][1]
    assert by_row[7] == ("false", "rate plan charge RPC-09999999 does not exist")
    assert by_row[8][0] == "false" and by_row[8][1].startswith("nothing to set")
    assert by_row[9] == ("false", "the row has 2 fields but the header has 4")
    assert by_row[10] == ("true", "")
    if backfills.objects:
        # In the bucket under a key of the run that ended the job; the download above read it there.
        assert re.fullmatch(rf"results/{job}/run-\d+/charges-result\.csv", row["result_path"]), row
        assert [f for f in backfills.kept_files() if job in f] == [], "nothing of the job stays in the scratch folder"
    else:
        assert row["result_path"] == f"results/{job}/charges-result.csv"
        assert (backfills.files / row["result_path"]).is_file()

    charges = backfills.query("SELECT id, booking_date, amount, version FROM rate_plan_charges "
                              "WHERE id IN ('RPC-00000001', 'RPC-00000004', 'RPC-00000008', 'RPC-00000002', 'RPC-00000005')")
    by_id = {c[0]: c[1:] for c in charges}
    assert by_id["RPC-00000001"] == ("2024-01-31", "100.50", "2")
    assert by_id["RPC-00000004"][0] == "2024-04-01" and by_id["RPC-00000004"][2] == "2"
    assert by_id["RPC-00000008"][1:] == ("88.80", "2")
    assert by_id["RPC-00000002"][2] == "1" and by_id["RPC-00000005"][2] == "1", "refused rows must not be applied"

    events = status_events(job)
    assert [e["status"] for e in events][:3] == ["Accepted", "Pending", "Processing"]
    assert events[-1]["status"] == "Completed"
    last = events[-1]
    assert last["action"] == "update-rate-plan-charge" and last["uploadedFile"] == "charges.csv"
    assert last["generatedBy"] == "e2e" and last["recordsProcessed"] == 11 and last["startDate"] and last["endDate"]
    assert last["resultFile"]["name"] == "charges-result.csv"

    shown = backfills.cli("backfill", "show", job).stdout
    assert "Records Processed: 11 of 11" in shown and "Status:            Completed" in shown
    logs = backfills.cli("backfill", "logs").stdout
    assert job in logs.splitlines()[1], "the newest job is listed first"


def test_invoice_items_from_a_zipped_csv_with_its_md5(backfills, tmp_path):
    csv_path = write_csv(tmp_path / "items.csv", [["Invoice Item Id", "Accounting Code", "Revenue Start Date"],
                                                  ["II-00000001", "4999-Adjusted", "2025-01-01"],
                                                  ["II-00000002", "4999-Adjusted", ""]], newline="\n")
    zip_path = tmp_path / "items.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.write(csv_path, "export/items.csv")
        archive.writestr("README.txt", "not a csv")
    md5 = hashlib.md5(zip_path.read_bytes()).hexdigest()
    job = backfills.submit("update-invoice-item", zip_path, "--md5", md5)
    _, row = backfills.wait(job)
    assert row["status"] == "Completed" and row["failed"] == 0 and row["processed"] == 2, row
    items = dict(backfills.query("SELECT id, accounting_code FROM invoice_items WHERE id IN ('II-00000001', 'II-00000002')"))
    assert items == {"II-00000001": "4999-Adjusted", "II-00000002": "4999-Adjusted"}
    assert backfills.result_rows(job)[0] == ["Invoice Item Id", "Accounting Code", "Revenue Start Date", "Success", "Error Message"]


def defective_files(tmp_path):
    def zipped(name, members):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            for member, text in members.items():
                archive.writestr(member, text)
        return path
    good = "Charge Id,Amount\nRPC-00000001,1\n"
    return [
        (write_csv(tmp_path / "no-key.csv", [["Booking Date", "Amount"], ["2024-01-01", "1"]]), [],
         'the required column "Charge Id" is missing from the header (found: "Booking Date", "Amount")'),
        (tmp_path / "quote.csv", [], "quote.csv is not a valid CSV file: line 2, field 2: a quote inside an unquoted field"),
        (tmp_path / "latin1.csv", [], "latin1.csv is not a valid CSV file: line 2, field 2: the text is not valid UTF-8"),
        (tmp_path / "empty.csv", [], "empty.csv is empty (0 bytes)"),
        (tmp_path / "header-only.csv", [], "header-only.csv has a header but no rows"),
        (zipped("no-csv.zip", {"notes.txt": "x"}), [], "the zip file no-csv.zip holds no .csv file"),
        (zipped("two-csv.zip", {"a.csv": good, "b.csv": good}), [], "the zip file two-csv.zip holds 2 .csv files"),
        (write_csv(tmp_path / "md5.csv", [["Charge Id", "Amount"], ["RPC-00000001", "1"]]), ["--md5", "0" * 32],
         "the file's MD5 checksum is"),
    ]


def test_defective_files_fail_the_job_with_a_reason(backfills, tmp_path):
    files = defective_files(tmp_path)
    (tmp_path / "quote.csv").write_bytes(b"Charge Id,Amount\nRPC-1,1\"2\n")
    (tmp_path / "latin1.csv").write_bytes(b"Charge Id,Amount\nRPC-1,caf\xe9\n")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "header-only.csv").write_bytes(b"Charge Id,Amount\r\n")
    jobs = [(backfills.submit("update-rate-plan-charge", path, *extra), expected) for path, extra, expected in files]
    for job, expected in jobs:
        _, row = backfills.wait(job)
        assert row["status"] == "Failed", row
        assert expected in row["error"], row["error"]
        assert row["processed"] == 0


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../etc/passwd", "uploads/../../outside.csv"])
def test_a_request_naming_a_file_outside_the_file_store_is_refused_unread(backfills, path):
    job = f"outside-{os.urandom(4).hex()}"
    publish_request(job, {"action": "update-rate-plan-charge", "generatedBy": "someone",
                          "file": {"path": path, "name": "passwd.csv"}})
    row = backfills.wait_until(job, lambda r: r["status"] in ("Failed", "Completed"), timeout=60)
    assert row["status"] == "Failed"
    assert "refused, not read" in row["error"], row["error"]


def test_a_repeated_request_makes_one_job(backfills):
    job = f"repeat-{os.urandom(4).hex()}"
    request = {"action": "booking-date-from-created", "generatedBy": "script"}
    publish_request(job, request)
    backfills.wait_until(job, lambda r: r["status"] == "Completed", timeout=60)
    publish_request(job, request)
    events = status_events(job, timeout=15)
    assert [e["status"] for e in events].count("Accepted") == 1, events
    assert backfills.query(f"SELECT COUNT(*) FROM backfill_jobs WHERE job_id = '{job}'") == [("1",)]


def test_booking_date_from_created_fills_every_missing_booking_date(backfills):
    backfills.seed(3000)
    missing = int(backfills.query("SELECT COUNT(*) FROM rate_plan_charges WHERE booking_date IS NULL")[0][0])
    assert missing > 0
    job = backfills.submit("booking-date-from-created")
    printed, row = backfills.wait(job)
    assert row["status"] == "Completed" and row["processed"] == missing, row
    assert "Pending" not in printed, "a file-less action has nothing to validate"
    assert backfills.query("SELECT COUNT(*) FROM rate_plan_charges WHERE booking_date IS NULL") == [("0",)]
    assert backfills.query("SELECT COUNT(*) FROM rate_plan_charges WHERE version = 2 AND booking_date <> created_on") == [("0",)]


def big_file(path, rows, start=1):
    lines = ["Charge Id,Booking Date,Accounting Code"]
    lines += [f"RPC-{n:08d},2025-{n % 12 + 1:02d}-15,ACC-{n % 7}" for n in range(start, start + rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cancel_stops_a_processing_job_and_the_result_marks_unprocessed_rows(backfills, tmp_path):
    backfills.seed(100_000)
    job = backfills.submit("update-rate-plan-charge", big_file(tmp_path / "big.csv", 100_000))
    backfills.wait_until(job, lambda r: r["status"] == "Processing" and r["processed"] > 0, timeout=180)
    result = backfills.cli("backfill", "cancel", job, "--requested-by", "ops")
    assert "cancel requested" in result.stdout
    _, row = backfills.wait(job)
    assert row["status"] == "Canceled", row
    assert 0 < row["processed"] < 100_000, row

    rows = backfills.result_rows(job)[1:]
    assert len(rows) == 100_000
    applied = [r[0] for r in rows if r[3] == "true"]
    unprocessed = [r for r in rows if r[3] == "false"]
    assert len(applied) == row["processed"] and all(r[4] == NOT_PROCESSED for r in unprocessed)
    changed = int(backfills.query("SELECT COUNT(*) FROM rate_plan_charges WHERE version > 1")[0][0])
    assert changed == len(applied), "exactly the rows reported applied were changed"

    refused = backfills.cli("backfill", "cancel", job, check=False)
    assert refused.returncode != 0 and "is Canceled already" in refused.stderr


def test_retry_runs_only_the_failed_rows_and_links_both_jobs(backfills, tmp_path):
    backfills.seed(100)
    rows = [["Charge Id", "Amount", "Note"], ["RPC-00000001", "1.00", "ok"], ["RPC-00000500", "2.00", "missing"],
            ["RPC-00000002", "x", "bad amount"], ["RPC-00000003", "3.00", "ok"]]
    job = backfills.submit("update-rate-plan-charge", write_csv(tmp_path / "first.csv", rows))
    assert backfills.wait(job)[1]["failed"] == 2
    backfills.seed(600)  # now RPC-00000500 exists
    retry = backfills.cli("backfill", "retry", job, "--generated-by", "e2e").stdout.strip()
    _, row = backfills.wait(retry)
    assert row["retry_of"] == job and backfills.job(job)["retried_by"] == retry
    assert row["uploaded_file"] == "first-retry.csv" and row["total"] == 2
    result = backfills.result_rows(retry)
    assert [r[:3] for r in result] == [rows[0], rows[2], rows[3]]
    assert [r[3] for r in result[1:]] == ["true", "false"]
    assert "Retried By:" in backfills.cli("backfill", "show", job).stdout
    assert f"Retry Of:          {job}" in backfills.cli("backfill", "show", retry).stdout


def test_a_paused_job_survives_kill_9_of_every_service_while_paused_and_while_resuming_and_applies_every_row_once(
        backfills, tmp_path):
    backfills.seed(30_000)
    # At 1,000 rows a second the 30 chunks need 29 s at least: the pause certainly lands mid-job.
    job = backfills.submit("update-rate-plan-charge", big_file(tmp_path / "paced.csv", 30_000), "--rate", "1000")
    backfills.wait_until(job, lambda r: r["status"] == "Processing", timeout=120)
    assert "pause requested" in backfills.cli("backfill", "pause", job, "--requested-by", "ops").stdout
    backfills.wait_until(job, lambda r: r["status"] == "Paused", timeout=60)
    applied = lambda: int(backfills.query(f"SELECT COUNT(*) FROM backfill_chunks WHERE job_id = '{job}'")[0][0])
    held = applied()
    assert held < 30
    backfills.kill("backfill-validator")
    backfills.kill("backfill-processor")
    backfills.start("backfill-processor", extra=PACED)
    backfills.start("backfill-validator")
    backfills.poll_until("the job taken over", lambda: backfills.query(
        f"SELECT epoch, status FROM backfill_jobs WHERE job_id = '{job}'"), lambda rows: int(rows[0][0]) > 1, timeout=120)
    assert backfills.job(job)["status"] == "Paused" and applied() == held, "nothing applied while paused, after the kills"
    assert "paused by ops" in backfills.cli("backfill", "show", job).stdout

    # No chunk was applied sooner than the rate allows: the k-th (in time) at least k - 1 seconds after the start.
    start, = backfills.query(f"SELECT start_date FROM backfill_jobs WHERE job_id = '{job}'")[0]
    times = [int(t) for (t,) in backfills.query(
        f"SELECT applied_at FROM backfill_chunks WHERE job_id = '{job}' ORDER BY applied_at")]
    assert all(t - int(start) >= 1000 * k - 250 for k, t in enumerate(times)), (start, times)

    # Killed again while resuming: the rate still holds the job to a chunk a second, so once one more
    # chunk is applied after the resume, the rest certainly are not yet.
    assert "resumes" in backfills.cli("backfill", "resume", job).stdout
    backfills.poll_until("a chunk applied after the resume", lambda: [applied()], lambda n: n[0] > held, timeout=120)
    backfills.kill("backfill-validator")
    backfills.kill("backfill-processor")
    assert applied() < 30, "the kills landed while the job was resuming"
    backfills.start("backfill-processor", extra=PACED)
    backfills.start("backfill-validator")
    assert "without a rate limit" in backfills.cli("backfill", "rate", job, "off").stdout
    printed, row = backfills.wait(job, timeout=300)
    assert row["status"] == "Completed" and (row["processed"], row["failed"]) == (30_000, 0), (row, printed)
    versions = dict(backfills.query("SELECT version, COUNT(*) FROM rate_plan_charges GROUP BY version"))
    assert versions == {"2": "30000"}, f"every row applied exactly once: {versions}"
    refused = backfills.cli("backfill", "pause", job, check=False)
    assert refused.returncode != 0 and "only a Processing job can be paused" in refused.stderr


def test_the_failure_brake_pauses_a_job_of_two_processors_within_one_chunk_of_its_limit(backfills, tmp_path):
    backfills.seed(20_000)
    rows = [["Charge Id", "Amount"]] + [[f"RPC-{n:08d}", "4.00"] for n in range(1, 5_001)]
    rows += [[f"RPC-{n:08d}", "4.00"] for n in range(90_000_001, 90_015_001)]  # no such records: every row fails
    backfills.start("backfill-processor", instance=1, extra=PACED)
    try:
        job = backfills.submit("update-rate-plan-charge", write_csv(tmp_path / "braked.csv", rows), "--max-failed", "1500")
        row = backfills.wait_until(job, lambda r: r["status"] in ("Paused", "Completed", "Failed"), timeout=180)
        assert row["status"] == "Paused", row
        reason = backfills.query(f"SELECT pause_reason FROM backfill_jobs WHERE job_id = '{job}'")[0][0]
        assert reason.startswith("stopped for a person to decide: too many rows failed"), reason
        failed, applied = (int(v) for v in backfills.query(
            f"SELECT COALESCE(SUM(failed_count), 0), COUNT(*) FROM backfill_chunks WHERE job_id = '{job}'")[0])
        assert 1500 < failed < 1500 + 1000, f"the chunk that crossed the limit was the last one applied: {failed} failed"
        assert applied < 20, applied
        assert "cancel requested" in backfills.cli("backfill", "cancel", job).stdout
        assert backfills.wait(job)[1]["status"] == "Canceled"
    finally:
        backfills.kill("backfill-processor", instance=1, sig=signal.SIGTERM)


def test_revert_puts_every_field_back_and_reports_a_record_changed_since(backfills, tmp_path, schemas):
    backfills.seed(300)
    before = backfills.charges()
    rows = [["Charge Id", "Booking Date", "Accounting Code", "Amount"]]
    rows += [[f"RPC-{n:08d}", "2031-01-15", "ACC-UNDO", f"{n}.25"] for n in range(1, 121)]
    rows += [["RPC-09999999", "2031-01-15", "", ""]]
    job = backfills.submit("update-rate-plan-charge", write_csv(tmp_path / "undo.csv", rows))
    assert backfills.wait(job)[1]["status"] == "Completed"
    applied = backfills.charges()
    later = backfills.submit("update-rate-plan-charge", write_csv(tmp_path / "later.csv", [["Charge Id", "Amount"],
                                                                                            ["RPC-00000007", "7.77"]]))
    assert backfills.wait(later)[1]["status"] == "Completed"

    revert = backfills.cli("backfill", "revert", job, "--generated-by", "ops").stdout.strip()
    _, row = backfills.wait(revert)
    assert (row["status"], row["total"], row["processed"], row["failed"]) == ("Completed", 120, 120, 1), row
    assert row["reverts"] == job and backfills.job(job)["reverted_by"] == revert
    result = backfills.result_rows(revert)
    assert result[0] == ["Row", "Charge Id", "Success", "Error Message"] and len(result) == 121
    refused = [line for line in result[1:] if line[2] == "false"]
    assert [line[:2] for line in refused] == [["7", "RPC-00000007"]]
    assert f"changed since backfill {job} by backfill {later} (generated by e2e)" in refused[0][3]
    after = backfills.charges()
    assert [r for r in after if r[0] != "RPC-00000007"] == [r for r in before if r[0] != "RPC-00000007"]
    assert [r for r in after if r[0] == "RPC-00000007"][0][7] == "7.77", "the later change is kept"

    assert "Reverts:" in backfills.cli("backfill", "show", revert).stdout
    assert "Reverted By:" in backfills.cli("backfill", "show", job).stdout
    envelopes = [json.loads(value) for _, value in messages("jobstream.backfill.status", revert)]
    completed = [e for e in envelopes if e["payload"]["status"] == "Completed"]
    assert completed and completed[-1]["payload"]["reverts"] == job
    Draft202012Validator(schemas["jobstream.backfill.status"], format_checker=FormatChecker()).validate(completed[-1])
    again = backfills.cli("backfill", "revert", job, check=False)
    assert again.returncode != 0 and f"was reverted already, by backfill {revert}" in again.stderr

    undo_undo = backfills.cli("backfill", "revert", revert, "--generated-by", "ops").stdout.strip()
    assert backfills.wait(undo_undo)[1]["status"] == "Completed"
    assert [r for r in backfills.charges() if r[0] != "RPC-00000007"] == [r for r in applied if r[0] != "RPC-00000007"]


def test_preview_writes_nothing_and_its_apply_needs_another_approver_and_reports_a_record_changed_since(
        backfills, tmp_path, schemas):
    backfills.seed(300)
    rows = [["Charge Id", "Accounting Code", "Amount"]]
    rows += [[f"RPC-{n:08d}", "ACC-PREVIEW", f"{n}.50"] for n in range(1, 101)]
    rows += [["RPC-09999999", "ACC-PREVIEW", ""]]
    backfills.query("UPDATE rate_plan_charges SET accounting_code = 'ACC-PREVIEW', amount = '3.50' WHERE id = 'RPC-00000003'")
    before = backfills.charges()
    versions = backfills.query("SELECT id, version FROM rate_plan_charges ORDER BY id")
    # A validator that requires approval: a plain submit becomes a preview.
    backfills.kill("backfill-validator", sig=signal.SIGTERM)
    backfills.start("backfill-validator", extra=("--require-approval",))
    try:
        preview = backfills.submit("update-rate-plan-charge", write_csv(tmp_path / "preview.csv", rows))
        _, row = backfills.wait(preview)
        assert (row["status"], row["total"], row["processed"], row["failed"]) == ("Completed", 101, 101, 1), row
        assert backfills.charges() == before and \
            backfills.query("SELECT id, version FROM rate_plan_charges ORDER BY id") == versions, "a preview writes nothing"
        counts = backfills.query(f"SELECT preview, would_change, already_as_asked FROM backfill_jobs WHERE job_id = '{preview}'")
        assert counts == [("1", "99", "1")], counts
        assert "99 rows would change, 1 already as asked, 1 would fail" in backfills.cli("backfill", "show", preview).stdout
        envelopes = [json.loads(value) for _, value in messages("jobstream.backfill.status", preview)]
        completed = [e for e in envelopes if e["payload"]["status"] == "Completed"][-1]
        assert {k: completed["payload"].get(k) for k in ("preview", "wouldChange", "alreadyAsAsked", "wouldFail")} == \
            {"preview": True, "wouldChange": 99, "alreadyAsAsked": 1, "wouldFail": 1}, completed
        Draft202012Validator(schemas["jobstream.backfill.status"], format_checker=FormatChecker()).validate(completed)
        lines = backfills.result_rows(preview)
        assert lines[0] == ["Charge Id", "Accounting Code", "Amount", "Accounting Code (current)", "Amount (current)",
                            "Would Change", "Success", "Error Message"]
        assert lines[3][3:7] == ["ACC-PREVIEW", "3.50", "false", "true"], lines[3]
        assert lines[1][5:7] == ["true", "true"] and lines[101][6] == "false", (lines[1], lines[101])

        backfills.query("UPDATE rate_plan_charges SET amount = '8.88', version = version + 1 WHERE id = 'RPC-00000008'")
        own = backfills.cli("backfill", "apply", preview, "--approved-by", "e2e", check=False)
        assert own.returncode != 0 and "cannot approve it" in own.stderr, own.stderr
        unapproved = backfills.cli("backfill", "apply", preview, "--generated-by", "e2e").stdout.strip()
        _, row = backfills.wait(unapproved)
        assert row["status"] == "Failed" and "needs the approval of someone other than its submitter" in row["error"], row
        apply = backfills.cli("backfill", "apply", preview, "--approved-by", "bea.costa", "--generated-by", "e2e")
        apply = apply.stdout.strip()
        _, row = backfills.wait(apply)
        assert (row["status"], row["processed"], row["failed"]) == ("Completed", 101, 2), row
        result = backfills.result_rows(apply)
        refused = {line[0]: line[4] for line in result[1:] if line[3] == "false"}
        assert set(refused) == {"RPC-00000008", "RPC-09999999"}, refused
        assert refused["RPC-00000008"].startswith("changed since the preview by"), refused
        after = {r[0]: r for r in backfills.charges()}
        assert after["RPC-00000001"][5] == "ACC-PREVIEW" and after["RPC-00000001"][7] == "1.50"
        assert after["RPC-00000008"][7] == "8.88", "the change made since the preview is kept"
        shown = backfills.cli("backfill", "show", apply).stdout
        assert "Applies:" in shown and "bea.costa" in shown, shown
        assert "Applied By:" in backfills.cli("backfill", "show", preview).stdout
    finally:
        backfills.kill("backfill-validator", sig=signal.SIGTERM)
        backfills.start("backfill-validator")


def test_killed_validator_and_processor_are_replaced_and_every_row_is_applied_once(backfills, tmp_path):
    backfills.seed(100_000)
    backfills.start("backfill-processor", instance=1, extra=PACED)
    job = backfills.submit("update-rate-plan-charge", big_file(tmp_path / "big.csv", 99_990, start=11))
    # The ledger, not Records Processed (its owner updates that each second): once 5 of the 100 chunks
    # are applied, the paced processors need at least 4.75 s for the rest.
    applied = lambda: int(backfills.query(f"SELECT COUNT(*) FROM backfill_chunks WHERE job_id = '{job}'")[0][0])
    backfills.poll_until("5 chunks applied", lambda: [applied()], lambda n: n[0] >= 5, timeout=180)
    backfills.kill("backfill-validator")
    backfills.kill("backfill-processor")
    assert applied() < 100 and backfills.job(job)["status"] == "Processing", "the kills landed mid-job"
    backfills.start("backfill-processor", extra=PACED)
    backfills.start("backfill-validator")
    printed, row = backfills.wait(job, timeout=400)
    assert row["status"] == "Completed", (row, printed)
    assert (row["processed"], row["failed"]) == (99_990, 0)
    assert "taking over backfill " + job in backfills.log("backfill-validator")
    versions = dict(backfills.query("SELECT version, COUNT(*) FROM rate_plan_charges GROUP BY version"))
    assert versions == {"1": "10", "2": "99990"}, f"every row applied exactly once, nothing else touched: {versions}"
    result = backfills.result_rows(job)[1:]
    assert [r[0] for r in result] == [f"RPC-{n:08d}" for n in range(11, 100_001)]
    assert all(r[3] == "true" for r in result)
    backfills.kill("backfill-processor", instance=1, sig=15)
