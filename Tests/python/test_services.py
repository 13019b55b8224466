"""The four service executables: each starts, joins its consumer group on its input topics, and
shuts down cleanly on SIGTERM; bad command lines are refused with a message that names the problem."""
import os
import pathlib
import signal
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, broker

SERVICES = {
    "backfill-validator": ["jobstream.backfill.requests"],
    "backfill-processor": ["jobstream.backfill.chunks"],
    "migration-runner": ["jobstream.migration.requests", "jobstream.migration.slices"],
    "sync-history-recorder": ["jobstream.sync.events"],
}


def binary(name):
    path = ROOT / ".build" / "debug" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: build first (make test does)")
    return str(path)


pytestmark = pytest.mark.usefixtures("topics")


def test_every_service_joins_its_group_and_stops_cleanly_on_sigterm(tmp_path):
    processes = {}
    for name in SERVICES:
        log = open(tmp_path / f"{name}.log", "w")
        processes[name] = (subprocess.Popen(
            [binary(name), "--brokers", broker(), "--group", f"test-{name}-{uuid.uuid4().hex[:6]}",
             "-X", "session.timeout.ms=6000"], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "JOBSTREAM_STORE": str(tmp_path / "store.sqlite"),
                 "JOBSTREAM_FILE_STORE": str(tmp_path / "files")}), log)
    try:
        deadline = time.monotonic() + 60
        for name, topics in SERVICES.items():
            path = tmp_path / f"{name}.log"
            while "partitions assigned" not in path.read_text():
                assert processes[name][0].poll() is None, f"{name} exited:\n{path.read_text()}"
                assert time.monotonic() < deadline, f"{name} did not join its group:\n{path.read_text()}"
                time.sleep(0.2)
            assigned = path.read_text()
            for topic in topics:
                assert f"{topic}[0]" in assigned, f"{name} was not assigned {topic}"
        for name, (process, _) in processes.items():
            process.send_signal(signal.SIGTERM)
        for name, (process, _) in processes.items():
            assert process.wait(timeout=30) == 0, (tmp_path / f"{name}.log").read_text()
            text = (tmp_path / f"{name}.log").read_text()
            assert "partitions revoked" in text, f"{name} did not leave its group:\n{text}"
            assert f"{name} stopped" in text
    finally:
        for process, log in processes.values():
            if process.poll() is None:
                process.kill()
            log.close()


@pytest.mark.parametrize("arguments, complaint", [
    (["-X", "no-equals-sign"], '-X "no-equals-sign": expected key=value'),
    (["--brokers", " "], "--brokers is empty"),
    (["-X", "no.such.property=1"], "no.such.property"),
    (["--log-level", "loud"], "loud"),
])
def test_bad_command_lines_are_refused_with_a_reason(arguments, complaint):
    result = subprocess.run([binary("backfill-processor"), *arguments], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr


@pytest.mark.parametrize("arguments, complaint", [
    (["--slice-size", "0"], "--slice-size must be between 1 and 100000"),
    (["--lease", "1"], "--lease must be between 3 and 600 seconds"),
    (["--error-after", "0"], "--error-after must be between 1 and 3600 seconds"),
    (["--store", "mysql://db/jobs"], "--store"),
])
def test_bad_migration_runner_options_are_refused_with_a_reason(arguments, complaint):
    result = subprocess.run([binary("migration-runner"), *arguments], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr


@pytest.mark.parametrize("arguments, complaint", [
    (["--retention-days", "0"], "--retention-days must be between 1 and 3650"),
    (["--retention-interval", "0"], "--retention-interval must be between 1 and 86400 seconds"),
    (["--batch-size", "100000"], "--batch-size must be between 1 and 50000"),
    (["--store", "mysql://db/jobs"], "--store"),
])
def test_bad_sync_history_recorder_options_are_refused_with_a_reason(arguments, complaint):
    result = subprocess.run([binary("sync-history-recorder"), *arguments], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr


@pytest.mark.parametrize("arguments, complaint", [
    (["--failure-rate", "1.5"], "--failure-rate must be between 0 and 1"),
    (["--sessions", "0"], "--sessions must be between 1 and 1000000"),
    (["--operation", "Hourly"], "Hourly"),
    (["--prefix", ""], "--prefix must be 1 to 100 characters"),
])
def test_bad_simulator_options_are_refused_with_a_reason(arguments, complaint):
    result = subprocess.run([binary("jobstream"), "sync", "simulate", *arguments], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr
    assert "SIMULATOR" in subprocess.run([binary("jobstream"), "sync", "simulate", "--help"], capture_output=True,
                                         text=True, timeout=30).stdout


@pytest.mark.parametrize("arguments, environment, complaint", [
    (["--port", "70000"], {}, "--port 70000 is not a port number"),
    (["--operator-token", "short"], {}, "the operator token is 5 characters; use at least 24"),
    ([], {"JOBSTREAM_DASHBOARD_VIEWER_TOKEN": "has spaces but is long enough"}, "the viewer token may hold only printable ASCII"),
    (["--operator-token", "same-token-for-both-roles"], {"JOBSTREAM_DASHBOARD_VIEWER_TOKEN": "same-token-for-both-roles"},
     "the operator token and the viewer token are the same"),
    (["--store", "mysql://db/jobs"], {}, "--store"),
])
def test_bad_dashboard_options_are_refused_with_a_reason(arguments, environment, complaint):
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBSTREAM_DASHBOARD_")}
    result = subprocess.run([binary("dashboard"), *arguments], capture_output=True, text=True, timeout=30,
                            env={**env, **environment})
    assert result.returncode != 0
    assert complaint in result.stderr, result.stderr


def test_the_dashboard_help_never_prints_a_token():
    secret = "secret-" + uuid.uuid4().hex
    result = subprocess.run([binary("dashboard"), "--help"], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "JOBSTREAM_DASHBOARD_OPERATOR_TOKEN": secret,
                                 "JOBSTREAM_DASHBOARD_VIEWER_TOKEN": secret + "-viewer"})
    assert "--operator-token" in result.stdout
    assert secret not in result.stdout + result.stderr
