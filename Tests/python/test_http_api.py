"""Jobs over HTTP against the real broker and services, through the client example in docs/: a file
submitted as a preview, refused to its own author and to an operator, approved and applied by a named
approver, reverted, every step in the audit trail; and the example run as a script, as a reader would."""
import csv
import json
import os
import re
import subprocess
import sys

import pytest

import stage_support
from backfill_support import Backfills, write_csv
from conftest import ROOT
from test_dashboard import Dashboard

sys.path.insert(0, str(ROOT / "docs"))
from jobstream_client import Jobstream, JobstreamError  # noqa: E402

pytestmark = pytest.mark.usefixtures("topics")

ANA = "js_ana_operator_" + os.urandom(12).hex()
BEA = "js_bea_approver_" + os.urandom(12).hex()
SECRET = "whsec_" + os.urandom(16).hex()


class Receiver:
    """A webhook receiver on loopback, as a team would write one: it checks each delivery's signature
    (HMAC-SHA256 of `t.body` under the shared secret, the README's recipe) and keeps what it got. It
    answers its very first delivery 500, so that a retry is seen."""

    def __init__(self):
        import http.server
        import threading
        self.received = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    first = not receiver.received
                    receiver.received.append({"headers": dict(self.headers), "body": body,
                                              "signed": verify(self.headers.get("Jobstream-Signature", ""), body),
                                              "answered": 500 if first else 200})
                self.send_response(500 if first else 200)
                self.end_headers()

            def log_message(self, *args):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def deliveries(self, event_id):
        with self.lock:
            return [r for r in self.received if r["headers"].get("Jobstream-Event-Id") == event_id]


def verify(header, body, tolerance=300):
    """The receiver's side of the signature: `t=UNIX,v1=HEX`, HEX = HMAC-SHA256(secret, f"{t}.{body}")."""
    import hashlib
    import hmac
    import time
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in parts or abs(time.time() - int(parts["t"])) > tolerance:
        return False
    expected = hmac.new(SECRET.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


@pytest.fixture(scope="module")
def api(tmp_path_factory, cli):
    tmp = tmp_path_factory.mktemp("http-api")
    stage = Backfills(tmp, str(tmp / "store.sqlite"))
    tokens = tmp / "tokens"
    lines = ["# name role hash"]
    for name, role, token in [("ana.lima", "operator", ANA), ("bea.costa", "approver", BEA)]:
        lines.append(hash_line(name, role, token))
    tokens.write_text("\n".join(lines) + "\n")
    stage.receiver = Receiver()
    stage.env["JOBSTREAM_WEBHOOK_SECRET"] = SECRET
    try:
        stage.seed(200)
        stage.start("backfill-validator", extra=("--webhook", stage.receiver.url))
        stage.start("backfill-processor")
        stage.dashboard = Dashboard(stage, "--tokens-file", str(tokens))
        yield stage
    finally:
        if getattr(stage, "dashboard", None):
            stage.dashboard.stop()
        stage.stop_all()


def hash_line(name, role, token):
    """The token file's line, as `jobstream token new` prints it (checked against it in the test below)."""
    import hashlib
    return f"{name} {role} sha256:{hashlib.sha256(token.encode()).hexdigest()}"


def test_token_new_prints_a_token_and_the_line_that_holds_only_its_hash(api):
    out = api.cli("token", "new", "--name", "dee.ops", "--role", "operator").stdout.splitlines()
    token = out[0].removeprefix("token: ").strip()
    line = out[1].removeprefix("line:  ").strip()
    assert len(token) >= 40 and token not in line
    assert line == hash_line("dee.ops", "operator", token)


def test_a_file_over_http_through_preview_approval_apply_and_revert(api):
    url = api.dashboard.url
    ana, bea = Jobstream(url, ANA), Jobstream(url, BEA)
    before = api.charges()
    rows = [["Charge Id", "Accounting Code"]] + [[f"RPC-{n:08d}", "ACC-HTTP"] for n in range(1, 41)]
    rows.append(["RPC-09999999", "ACC-HTTP"])
    path = write_csv(api.tmp / "over-http.csv", rows)

    submitted = ana.submit("update-rate-plan-charge", path, preview=True)
    preview = submitted["jobId"]
    assert submitted["by"] == "ana.lima"
    statuses = [event["status"] for event in ana.follow(preview, timeout=120)]
    assert statuses[-1] == "Completed", statuses
    done = ana.backfill(preview)
    assert (done["preview"], done["wouldChange"], done["wouldFail"], done["generatedBy"]) == (True, 40, 1, "ana.lima")
    assert api.charges() == before, "a preview writes nothing"
    with open(ana.download(preview, api.tmp / "preview.csv"), newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert "Accounting Code (current)" in header and "Would Change" in header

    with pytest.raises(JobstreamError) as by_operator:
        ana.act(preview, "apply")
    assert by_operator.value.status == 403 and "approver" in by_operator.value.message

    applied = bea.act(preview, "apply")
    assert (applied["of"], applied["by"]) == (preview, "bea.costa")
    apply = applied["jobId"]
    ended = bea.wait(apply, timeout=180)
    assert ended["status"] == "Completed", ended
    assert (ended["recordsProcessed"], ended["recordsFailed"]) == (41, 1)
    assert (ended["approvedBy"], ended["generatedBy"], ended["applies"]) == ("bea.costa", "bea.costa", preview)
    after = {row[0]: row[5] for row in api.charges()}
    assert all(after[f"RPC-{n:08d}"] == "ACC-HTTP" for n in range(1, 41))
    with open(bea.download(apply, api.tmp / "failures.csv", failures_only=True), newline="", encoding="utf-8") as handle:
        failures = list(csv.reader(handle))
    assert [row[0] for row in failures[1:]] == ["RPC-09999999"]

    reverted = ana.act(apply, "revert")
    assert ana.wait(reverted["jobId"], timeout=180)["status"] == "Completed"
    assert api.charges() == before, "the revert puts every field back"

    # Approving one's own preview is refused, under any name: the token is the name.
    own = bea.submit("update-rate-plan-charge", path, preview=True)["jobId"]
    assert bea.wait(own, timeout=120)["status"] == "Completed"
    with pytest.raises(JobstreamError) as self_approval:
        bea.act(own, "apply")
    assert self_approval.value.status == 409 and "bea.costa" in self_approval.value.message

    trail = bea._json("GET", f"/api/audit?job={preview}")["events"]
    assert [(e["actor"], e["action"], e["outcome"]) for e in reversed(trail)] == [
        ("ana.lima", "backfill.submit", "accepted"),
        ("ana.lima", "backfill.apply", "refused (403)"),
        ("bea.costa", "backfill.apply", "accepted"),
    ]
    assert all(e["source"].startswith("127.0.0.1") for e in trail)
    reverts = bea._json("GET", f"/api/audit?job={apply}")["events"]
    assert [(e["actor"], e["action"], e["outcome"]) for e in reverts] == [("ana.lima", "backfill.revert", "accepted")]
    listed = api.cli("audit", "--job", preview).stdout
    assert "bea.costa" in listed and "refused (403)" in listed and "backfill.submit" in listed

    # Every job's end reached the receiver, signed: the revert's final status event, and the
    # preview's, whose first attempt the receiver refused and whose second it took.
    revert = reverted["jobId"]
    got = api.poll_until("the revert's webhook", lambda: api.receiver.deliveries(f"{revert}/Completed"), bool, timeout=60)
    assert got[-1]["signed"] and json.loads(got[-1]["body"])["payload"]["status"] == "Completed"
    assert json.loads(got[-1]["body"])["jobId"] == revert
    first = api.poll_until("the retried delivery", lambda: api.receiver.received and api.receiver.deliveries(
        api.receiver.received[0]["headers"]["Jobstream-Event-Id"]), lambda r: len(r) >= 2, timeout=60)
    assert [(r["headers"]["Jobstream-Delivery-Attempt"], r["answered"]) for r in first[:2]] == [("1", 500), ("2", 200)]
    assert all(r["signed"] for r in api.receiver.received)
    job_of_first = first[0]["headers"]["Jobstream-Event-Id"].split("/")[0]
    shown = ana._json("GET", f"/api/backfills/{job_of_first}/webhooks")["deliveries"]
    assert [(d["attempts"], d["lastStatus"], d["deliveredAt"] is not None) for d in shown] == [(2, 200, True)]
    assert shown[0]["to"] == "http://127.0.0.1:" + api.receiver.url.split(":")[2].split("/")[0] + "/…"
    show = api.cli("backfill", "show", job_of_first).stdout
    assert re.search(rf"Webhook: +{re.escape(shown[0]['to'])} Completed: delivered .+, 2 attempts, last answer 200", show), show


def test_the_client_example_runs_as_a_script(api):
    rows = [["Charge Id", "Booking Date"]] + [[f"RPC-{n:08d}", "2025-03-01"] for n in range(50, 60)]
    path = write_csv(api.tmp / "from-script.csv", rows)
    result = api.tmp / "from-script-result.csv"
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "jobstream_client.py"), "update-rate-plan-charge", str(path), "--result",
         str(result)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "JOBSTREAM_URL": api.dashboard.url, "JOBSTREAM_TOKEN": ANA})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Completed: 10 of 10 rows" in done.stdout
    with open(result, newline="", encoding="utf-8") as handle:
        assert [row[-2] for row in list(csv.reader(handle))[1:]] == ["true"] * 10
    refused = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "jobstream_client.py"), "update-rate-plan-charge", str(path)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "JOBSTREAM_URL": api.dashboard.url, "JOBSTREAM_TOKEN": "js_not_a_token_at_all_0000"})
    assert refused.returncode == 2 and "401" in refused.stderr
