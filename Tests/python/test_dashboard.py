"""The dashboard in a real headless browser (Chromium from Debian's packages) against the real
broker and services: pages of the three logs, a backfill submitted through the CLI reaching Completed
on an open page without a reload, Cancel from the page, a result file downloaded with formula cells
defused, the sync history filtered, and markup from users shown as text. Screenshots of each page go
to .local/screenshots."""
import csv
import hashlib
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

import stage_support
from backfill_support import Backfills, write_csv
from browser_support import open_browser, screenshot

pytestmark = pytest.mark.usefixtures("topics")

OPERATOR_TOKEN = "e2e-operator-" + uuid.uuid4().hex
# A named approver: only a named approver token applies a preview, as its own name.
APPROVER_TOKEN = "js_e2e_approver_" + uuid.uuid4().hex
NAMED_OPERATOR_TOKEN = "js_e2e_ana_" + uuid.uuid4().hex
WAIT = 90


class Dashboard:
    """A dashboard process on a free port, reading the status topics from their start."""

    def __init__(self, stage, *options):
        self.log_path = stage.tmp / f"dashboard-{uuid.uuid4().hex[:6]}.log"
        self.log = open(self.log_path, "w")
        env = {**stage.env, "JOBSTREAM_DASHBOARD_OPERATOR_TOKEN": OPERATOR_TOKEN}
        self.process = subprocess.Popen([str(stage_support.BIN / "dashboard"), "--port", "0", "-X", "session.timeout.ms=6000",
                                         *options], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 90
        while True:
            text = self.log_path.read_text()
            match = re.search(r"dashboard listening on (http://\S+)", text)
            if match and "partitions assigned" in text:
                self.url = match.group(1)
                break
            assert self.process.poll() is None, f"the dashboard exited:\n{text}"
            assert time.monotonic() < deadline, f"the dashboard did not start:\n{text}"
            time.sleep(0.2)

    def api(self, path, method="GET", token=None):
        request = urllib.request.Request(self.url + path, method=method)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self):
        self.process.terminate()
        code = self.process.wait(timeout=30)
        self.log.close()
        return code


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard")
    backfills = Backfills(tmp, str(tmp / "store.sqlite"))
    try:
        backfills.seed(500)
        backfills.start("backfill-validator")
        backfills.start("backfill-processor")
        tokens = tmp / "tokens"
        tokens.write_text(f"e2e.approver approver sha256:{hashlib.sha256(APPROVER_TOKEN.encode()).hexdigest()}\n"
                          f"e2e.ana operator sha256:{hashlib.sha256(NAMED_OPERATOR_TOKEN.encode()).hexdigest()}\n")
        backfills.dashboard = Dashboard(backfills, "--tokens-file", str(tokens))
        yield backfills
    finally:
        if getattr(backfills, "dashboard", None):
            backfills.dashboard.stop()
        backfills.stop_all()


@pytest.fixture(scope="module")
def browser(stage):
    downloads = stage.tmp / "downloads"
    downloads.mkdir()
    driver = open_browser(downloads)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


# Replaces EventSource on the next documents with one that connects only when
# `window.jobstreamReleaseEvents()` is called, passing on the real stream's events.
HOLD_EVENT_STREAM = """
(() => {
  const RealEventSource = window.EventSource;
  window.EventSource = function (url) {
    const target = new EventTarget();
    window.jobstreamReleaseEvents = () => {
      const real = new RealEventSource(url);
      for (const type of ["open", "change", "error"]) {
        real.addEventListener(type, (event) => target.dispatchEvent(new MessageEvent(type, { data: event.data })));
      }
    };
    return target;
  };
})();
"""


def wait_for(driver, what, condition, timeout=WAIT):
    """Waits until `condition` holds; an element replaced by a live update or a navigation meanwhile is
    looked up again (Chromium says so either as a stale reference or, mid-navigation, as a node that
    "does not belong to the document")."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def attempt(d):
        try:
            return condition(d)
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return False
            raise
    return WebDriverWait(driver, timeout, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException]) \
        .until(attempt, message=what)


def click(driver, selector):
    """Clicks the element, looking it up again if a live update replaced it before the click."""
    from selenium.webdriver.common.by import By

    def clicked(d):
        d.find_element(By.CSS_SELECTOR, selector).click()
        return True
    wait_for(driver, f"click {selector}", clicked, timeout=10)


def read(driver, what):
    """What `what(driver)` returns, read again if a live update replaced an element meanwhile (a page
    re-fetches its live region once its event stream opens, just after it loads)."""
    from selenium.common.exceptions import StaleElementReferenceException
    for _ in range(50):
        try:
            return what(driver)
        except StaleElementReferenceException:
            time.sleep(0.1)
    return what(driver)


def row_text(driver, selector):
    from selenium.webdriver.common.by import By
    rows = driver.find_elements(By.CSS_SELECTOR, selector)
    return rows[0].text if rows else ""


def sign_in(driver, dashboard, next_path, token=OPERATOR_TOKEN, role="operator"):
    from selenium.webdriver.common.by import By
    driver.get(f"{dashboard.url}/login?next={next_path}")
    driver.find_element(By.NAME, "token").send_keys(token)
    driver.find_element(By.NAME, "name").send_keys("e2e operator")
    driver.find_element(By.CSS_SELECTOR, "form.sign-in button").click()
    wait_for(driver, "signed in", lambda d: role in d.find_element(By.CSS_SELECTOR, ".who").text)


def mark_page(driver):
    """Marks the loaded document; the mark survives live updates but not a reload."""
    driver.execute_script("window.jobstreamNoReload = true")
    wait_for(driver, "live updates connected", lambda d: d.execute_script("return document.body.dataset.live") == "connected")


def test_a_backfill_submitted_through_the_cli_reaches_completed_on_an_open_page(stage, browser):
    dashboard = stage.dashboard
    sign_in(browser, dashboard, "/backfills")
    mark_page(browser)
    rows = [["Charge Id", "Amount", "Note"]] + [[f"RPC-{n:08d}", f"{n}.25", "fine"] for n in range(1, 40)]
    rows += [["RPC-00000040", "-12.50", "=HYPERLINK(\"http://example.invalid\")"], ["RPC-99999999", "1.00", "@SUM(A1:A2)"]]
    job = stage.submit("update-rate-plan-charge", write_csv(stage.tmp / "live.csv", rows))

    selector = f'tr[data-job="{job}"]'
    wait_for(browser, f"{job} Completed on the page", lambda d: "Completed" in row_text(d, selector))
    assert browser.execute_script("return window.jobstreamNoReload") is True, "the page was reloaded"
    assert int(browser.execute_script("return document.getElementById('live').dataset.refreshes || '0'")) >= 1
    assert "live.csv" in read(browser, lambda d: row_text(d, selector)) and "e2e" in read(browser, lambda d: row_text(d, selector))
    screenshot(browser, "backfill-logs")

    # The result file: the uploaded rows with Success and Error Message, formula cells defused.
    from selenium.webdriver.common.by import By
    click(browser, f"{selector} a.download")
    target = browser.downloads / "live-result.csv"
    wait_for(browser, "the result file downloaded", lambda d: target.exists() and target.stat().st_size > 0, timeout=30)
    with open(target, newline="", encoding="utf-8") as handle:
        result = list(csv.reader(handle))
    assert result[0][-2:] == ["Success", "Error Message"]
    by_id = {row[0]: row for row in result[1:]}
    assert len(by_id) == 41
    assert by_id["RPC-00000040"][1:4] == ["-12.50", "'=HYPERLINK(\"http://example.invalid\")", "true"]
    assert by_id["RPC-99999999"][2] == "'@SUM(A1:A2)" and by_id["RPC-99999999"][3] == "false"
    assert by_id["RPC-99999999"][4], "the failed row says why"

    browser.get(f"{dashboard.url}/backfills/{job}")
    assert "Records Failed" in browser.page_source and "Completed" in browser.page_source
    screenshot(browser, "backfill-details")


def test_markup_in_a_file_name_or_error_shows_as_text(stage, browser):
    dashboard = stage.dashboard
    browser.get(f"{dashboard.url}/backfills")
    mark_page(browser)
    job = f"e2e-xss-{uuid.uuid4().hex[:8]}"
    name = "<script>window.jobstreamInjected=1</script>.csv"
    error = "row 2: <img src=x onerror=\"window.jobstreamInjected=2\"> is not a charge"
    stage_support.publish("jobstream.backfill.status", job, "backfill.status", {
        "action": "update-rate-plan-charge", "uploadedFile": name, "generatedBy": "<b>mallory</b>",
        "recordsProcessed": 0, "recordsFailed": 0, "status": "Failed", "error": error,
        "startDate": "2026-11-22T10:00:00.000Z", "endDate": "2026-11-22T10:00:01.000Z"})
    selector = f'tr[data-job="{job}"]'
    wait_for(browser, "the hand-published job on the open page", lambda d: "Failed" in row_text(d, selector))
    assert name in read(browser, lambda d: row_text(d, selector)) and "<b>mallory</b>" in read(browser, lambda d: row_text(d, selector))
    browser.get(f"{dashboard.url}/backfills/{job}")
    from selenium.webdriver.common.by import By
    assert error in read(browser, lambda d: d.find_element(By.CSS_SELECTOR, "dl.fields").text)
    assert browser.execute_script("return window.jobstreamInjected") is None, "user markup ran as script"
    screenshot(browser, "backfill-markup-as-text")


def test_cancel_from_the_page(stage, browser):
    from selenium.webdriver.common.by import By
    dashboard = stage.dashboard
    stage.kill("backfill-processor")  # nothing applies the chunks: the job stays Processing until canceled
    try:
        rows = [["Charge Id", "Amount"]] + [[f"RPC-{n:08d}", "5.00"] for n in range(1, 201)]
        job = stage.submit("update-rate-plan-charge", write_csv(stage.tmp / "to-cancel.csv", rows))
        browser.get(f"{dashboard.url}/backfills")
        mark_page(browser)
        selector = f'tr[data-job="{job}"]'
        wait_for(browser, f"{job} Processing with a Cancel button",
                 lambda d: "Processing" in row_text(d, selector) and d.find_elements(By.CSS_SELECTOR, f"{selector} form.cancel button"))
        click(browser, f"{selector} form.cancel button")
        wait_for(browser, "the confirmation", lambda d: d.switch_to.alert, timeout=10)
        browser.switch_to.alert.accept()
        wait_for(browser, "the details page", lambda d: f"/backfills/{job}" in d.current_url)
        assert "Cancel requested" in browser.page_source
        mark_page(browser)
        wait_for(browser, f"{job} Canceled on the open details page",
                 lambda d: "Canceled" in d.find_element(By.CSS_SELECTOR, "dl.fields").text)
        assert browser.execute_script("return window.jobstreamNoReload") is True
        screenshot(browser, "backfill-canceled")
        assert stage.job(job)["status"] == "Canceled"
        assert stage.query(f"SELECT cancel_requested_by FROM backfill_jobs WHERE job_id = '{job}'") == [("e2e operator (dashboard)",)]
    finally:
        stage.start("backfill-processor")


def test_pause_and_resume_from_the_page(stage, browser):
    from selenium.webdriver.common.by import By
    dashboard = stage.dashboard
    stage.kill("backfill-processor")  # nothing applies the chunks: the job stays Processing until resumed
    try:
        rows = [["Charge Id", "Amount"]] + [[f"RPC-{n:08d}", "6.00"] for n in range(1, 201)]
        job = stage.submit("update-rate-plan-charge", write_csv(stage.tmp / "to-pause.csv", rows))
        browser.get(f"{dashboard.url}/backfills")
        mark_page(browser)
        selector = f'tr[data-job="{job}"]'
        wait_for(browser, f"{job} Processing with a Pause button",
                 lambda d: "Processing" in row_text(d, selector) and d.find_elements(By.CSS_SELECTOR, f"{selector} form.pause button"))
        click(browser, f"{selector} form.pause button")
        wait_for(browser, "the confirmation", lambda d: d.switch_to.alert, timeout=10)
        browser.switch_to.alert.accept()
        wait_for(browser, "the details page", lambda d: f"/backfills/{job}" in d.current_url)
        assert "Pause requested" in browser.page_source
        mark_page(browser)
        wait_for(browser, f"{job} Paused with a Resume button on the open details page",
                 lambda d: "paused by e2e operator (dashboard)" in d.find_element(By.CSS_SELECTOR, "dl.fields").text
                 and d.find_elements(By.CSS_SELECTOR, "form.resume button"))
        assert browser.execute_script("return window.jobstreamNoReload") is True
        screenshot(browser, "backfill-paused")
        assert stage.job(job)["status"] == "Paused"
        # A processor in the group before the resume: the chunks sent again on resume reach it (one
        # joining later starts at the end of a partition its group never read, and misses them).
        stage.start("backfill-processor")
        click(browser, "form.resume button")
        wait_for(browser, "the confirmation", lambda d: d.switch_to.alert, timeout=10)
        browser.switch_to.alert.accept()
        wait_for(browser, "the resume notice", lambda d: "Resume requested" in d.page_source)
        wait_for(browser, f"{job} Completed", lambda d: "Completed" in d.find_element(By.CSS_SELECTOR, "dl.fields").text)
        assert stage.job(job)["processed"] == 200
    finally:
        if ("backfill-processor", 0) not in stage.processes:
            stage.start("backfill-processor")


def test_apply_a_preview_then_revert_it_from_the_page(stage, browser):
    """The whole safe path on the dashboard: a preview's counts, Apply (by a named approver, whose
    token's name is the approver, whatever name was typed) and Revert, each with its confirmation; the
    jobs they start run on the validators."""
    from selenium.webdriver.common.by import By
    dashboard = stage.dashboard
    before = stage.charges()
    rows = [["Charge Id", "Accounting Code"]] + [[f"RPC-{n:08d}", "ACC-FROM-PAGE"] for n in range(301, 321)]
    preview = stage.submit("update-rate-plan-charge", write_csv(stage.tmp / "to-approve.csv", rows), "--preview")
    assert stage.wait(preview)[1]["status"] == "Completed"
    assert stage.charges() == before

    def press(button, notice):
        click(browser, button)
        wait_for(browser, "the confirmation", lambda d: d.switch_to.alert, timeout=10)
        browser.switch_to.alert.accept()
        wait_for(browser, notice, lambda d: notice in d.page_source)

    def linked(column, job):
        return stage.poll_until(f"{column} of {job}", lambda: stage.query(
            f"SELECT {column} FROM backfill_jobs WHERE job_id = '{job}'"), lambda r: r and r[0][0], timeout=WAIT)[0][0]

    sign_in(browser, dashboard, f"/backfills/{preview}", token=APPROVER_TOKEN, role="approver")
    wait_for(browser, "the preview's counts and its Apply button",
             lambda d: "20 rows would change" in d.find_element(By.CSS_SELECTOR, "dl.fields").text
             and d.find_elements(By.CSS_SELECTOR, "form.apply button"))
    assert not browser.find_elements(By.CSS_SELECTOR, "form.revert button"), "a preview changed nothing to revert"
    screenshot(browser, "backfill-preview")
    press("form.apply button", "Apply requested")
    apply = linked("applied_by", preview)
    assert stage.wait(apply)[1]["status"] == "Completed"
    assert stage.query(f"SELECT approved_by, applies FROM backfill_jobs WHERE job_id = '{apply}'") == [("e2e.approver", preview)]
    assert {r[0]: r[5] for r in stage.charges()}["RPC-00000305"] == "ACC-FROM-PAGE"

    browser.get(f"{dashboard.url}/backfills/{apply}")
    wait_for(browser, "the applied job with Approved By and a Revert button",
             lambda d: "e2e.approver" in d.find_element(By.CSS_SELECTOR, "dl.fields").text
             and d.find_elements(By.CSS_SELECTOR, "form.revert button"))
    press("form.revert button", "Revert requested")
    revert = linked("reverted_by", apply)
    assert stage.wait(revert)[1]["status"] == "Completed"
    assert stage.charges() == before, "the revert puts every field back"


def test_new_backfill_page_then_apply_without_the_cli(stage, browser):
    """The whole safe path in the browser alone: New backfill sends the file (preview on by default),
    the job's page follows it to the preview's counts; an operator sees no Apply, an approver does."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    dashboard = stage.dashboard
    before = stage.charges()
    rows = [["Charge Id", "Accounting Code"]] + [[f"RPC-{n:08d}", "ACC-NEW-PAGE"] for n in range(401, 416)]
    path = write_csv(stage.tmp / "from-the-page.csv", rows)
    sign_in(browser, dashboard, "/backfills/new", token=NAMED_OPERATOR_TOKEN, role="operator")
    Select(browser.find_element(By.NAME, "action")).select_by_value("update-rate-plan-charge")
    browser.find_element(By.NAME, "file").send_keys(str(path))
    assert browser.find_element(By.NAME, "preview").is_selected(), "preview is on by default"
    browser.find_element(By.CSS_SELECTOR, "form.new-backfill button").click()
    wait_for(browser, "the new job's page", lambda d: re.search(r"/backfills/[0-9a-f-]{36}", d.current_url))
    preview = re.search(r"/backfills/([0-9a-f-]{36})", browser.current_url).group(1)
    wait_for(browser, "the preview's counts, followed live",
             lambda d: "15 rows would change" in d.find_element(By.ID, "live").text)
    assert not browser.find_elements(By.CSS_SELECTOR, "form.apply button"), "an operator cannot approve"
    assert stage.charges() == before, "a preview writes nothing"
    assert [(g, str(p)) for g, p in stage.query(f"SELECT generated_by, preview FROM backfill_jobs WHERE job_id = '{preview}'")] \
        == [("e2e.ana", "1")]
    screenshot(browser, "new-backfill-preview")

    sign_in(browser, dashboard, f"/backfills/{preview}", token=APPROVER_TOKEN, role="approver")
    click(browser, "form.apply button")
    wait_for(browser, "the confirmation", lambda d: d.switch_to.alert, timeout=10)
    browser.switch_to.alert.accept()
    wait_for(browser, "Apply requested", lambda d: "Apply requested" in d.page_source)
    apply = stage.poll_until("the apply job", lambda: stage.query(
        f"SELECT applied_by FROM backfill_jobs WHERE job_id = '{preview}'"), lambda r: r and r[0][0], timeout=WAIT)[0][0]
    assert stage.wait(apply)[1]["status"] == "Completed"
    assert stage.query(f"SELECT approved_by FROM backfill_jobs WHERE job_id = '{apply}'") == [("e2e.approver",)]
    assert all(r[5] == "ACC-NEW-PAGE" for r in stage.charges() if "RPC-00000401" <= r[0] <= "RPC-00000415")


def test_the_json_api_needs_the_operator_token_to_cancel(stage):
    dashboard = stage.dashboard
    status, body = dashboard.api("/api/backfills")
    assert status == 200 and isinstance(body["backfills"], list)
    finished = next(job for job in body["backfills"] if job["status"] == "Completed")
    status, body = dashboard.api(f"/api/backfills/{finished['jobId']}/cancel", method="POST")
    assert status == 401 and "needs a token" in body["error"]
    status, body = dashboard.api(f"/api/backfills/{finished['jobId']}/cancel", method="POST", token=OPERATOR_TOKEN)
    assert status == 409 and "only a Pending, Processing or Paused job" in body["error"]


def test_migration_logs_show_progress(stage, browser):
    from selenium.webdriver.common.by import By
    dashboard = stage.dashboard
    browser.get(f"{dashboard.url}/migrations")
    mark_page(browser)
    migration = f"e2e-migration-{uuid.uuid4().hex[:8]}"
    stage_support.publish("jobstream.migration.status", migration, "migration.status", {
        "startTime": "2026-11-22T10:00:00.000Z", "generatedBy": "e2e", "cutoverDate": "2025-01-01",
        "progress": 40, "status": "In progress"})
    selector = f'tr[data-migration="{migration}"]'
    wait_for(browser, "the migration on the open page", lambda d: "In progress" in row_text(d, selector))
    assert read(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"{selector} progress").get_attribute("value")) == "40"
    screenshot(browser, "migration-logs")


def test_sync_history_filters_by_date_and_operation(stage, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    dashboard = stage.dashboard
    prefix = f"e2e-sync-{uuid.uuid4().hex[:6]}"
    sessions = {f"{prefix}-a": ("Manual", "2021-03-01T09:00:00.000Z", "Finished"),
                f"{prefix}-b": ("Scheduled", "2021-03-02T09:00:00.000Z", "Failure"),
                f"{prefix}-c": ("Manual", "2021-03-03T09:00:00.000Z", "Finished with Errors")}
    # The page is rendered before the sessions reach the dashboard, and subscribes to live updates only
    # after they did (its event stream is held back): the changes announced themselves to nobody, and
    # the page must still come to show them, without a reload, once its stream opens.
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOLD_EVENT_STREAM})
    try:
        browser.get(f"{dashboard.url}/sync")
        assert prefix not in browser.page_source
        for session, (operation, started, status) in sessions.items():
            stage_support.publish("jobstream.sync.history", session, "sync.history", {
                "operation": operation, "status": status, "startedAt": started, "finishedAt": started,
                "recordsSynced": 10, "recordsFailed": 0 if status == "Finished" else 2, "recordsToRetry": 0,
                "recordsNeedingFix": 0, "crmIdChanges": 0})
        deadline = time.monotonic() + WAIT
        while len([s for s in dashboard.api("/api/sync")[1]["sessions"] if s["sessionId"].startswith(prefix)]) < 3:
            assert time.monotonic() < deadline, "the dashboard never read the published sessions"
            time.sleep(0.2)
        assert prefix not in browser.page_source
        browser.execute_script("window.jobstreamReleaseEvents()")
        wait_for(browser, "the published sessions", lambda d: all(s in d.page_source for s in sessions))
        assert browser.execute_script("return document.body.dataset.live") == "connected"
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})

    for name, value in (("from", "2021-03-01"), ("to", "2021-03-02")):
        field = browser.find_element(By.NAME, name)
        browser.execute_script("arguments[0].value = arguments[1]", field, value)
    Select(browser.find_element(By.NAME, "operation")).select_by_value("Manual")
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    wait_for(browser, "the filtered list", lambda d: "operation=Manual" in d.current_url)
    shown = read(browser, lambda d: [row.get_attribute("data-session") for row in d.find_elements(By.CSS_SELECTOR, "tr[data-session]")])
    # Earlier runs on the same broker may have published sessions on those days too: only ours count.
    assert [session for session in shown if session.startswith(prefix)] == [f"{prefix}-a"], shown
    operations = read(browser, lambda d: [cell.text for cell in d.find_elements(By.CSS_SELECTOR, "tr[data-session] td:nth-child(2)")])
    assert operations and set(operations) == {"Manual"}, operations
    screenshot(browser, "sync-history-filtered")

    browser.find_element(By.CSS_SELECTOR, "a.clear").click()
    wait_for(browser, "the cleared list", lambda d: all(s in d.page_source for s in sessions))
    assert browser.find_element(By.NAME, "operation").get_attribute("value") == ""
    click(browser, f'tr[data-session="{prefix}-b"] a[href="/sync/{prefix}-b"]')
    wait_for(browser, "the session's result page", lambda d: f"/sync/{prefix}-b" in d.current_url)
    assert "Failure" in read(browser, lambda d: d.find_element(By.CSS_SELECTOR, "dl.fields").text)
    screenshot(browser, "sync-session")

    browser.get(f"{dashboard.url}/sync?from=2021-02-30")
    assert "is not a date written YYYY-MM-DD" in browser.page_source


def test_a_second_dashboard_builds_the_same_view_and_stops_cleanly_with_a_page_open(stage, browser):
    first = stage.dashboard
    _, known = first.api("/api/backfills")
    second = Dashboard(stage)
    try:
        def same_jobs():
            _, body = second.api("/api/backfills")
            return {job["jobId"]: job["status"] for job in body["backfills"]}
        expected = {job["jobId"]: job["status"] for job in known["backfills"]}
        deadline = time.monotonic() + WAIT
        while {k: v for k, v in same_jobs().items() if k in expected} != expected:
            assert time.monotonic() < deadline, "the second dashboard never caught up with the status topic"
            time.sleep(0.5)
        browser.get(f"{second.url}/backfills")
        mark_page(browser)  # a live-update stream is open on the second dashboard
    finally:
        started = time.monotonic()
        code = second.stop()
    assert code == 0, second.log_path.read_text()
    assert time.monotonic() - started < 15, "an open live page held the dashboard's shutdown"
