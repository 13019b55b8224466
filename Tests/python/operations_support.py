"""Reads a service's operations port: finds it in the service's log, scrapes /metrics (parsed by the
Prometheus client library, so a malformed exposition fails the test) and asks /health and /ready."""
import json
import re
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

ADDRESS = re.compile(r"metrics, health and readiness on (http://[0-9.]+:[0-9]+)")
METRIC_OPTIONS = ("--metrics-port", "0", "--statistics-interval", "1")


def operations_url(log_path, timeout=60):
    """The operations port's URL, as the service logged it when the port opened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ADDRESS.search(log_path.read_text()) if log_path.exists() else None
        if found:
            return found.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no operations port in {log_path}:\n{log_path.read_text()}")


def get(url):
    """(status, body) of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def ready(url):
    status, body = get(url + "/ready")
    return status, json.loads(body)


def scrape(url):
    """Every sample on /metrics as {(name, ((label, value), …)): value}."""
    status, body = get(url + "/metrics")
    assert status == 200, body
    samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    """One sample's value, or None when the series does not exist."""
    return samples.get((name, tuple(sorted(labels.items()))))


def series(samples, name, **labels):
    """{labels: value} of every series of `name` whose labels include `labels`."""
    return {dict_labels: v for (n, dict_labels), v in samples.items()
            if n == name and all(dict(dict_labels).get(k) == want for k, want in labels.items())}


def settled(url, name, **labels):
    """A counter's value once it stopped moving for 1.5 s (0 when it does not exist yet): the baseline of
    a test on shared topics, where a new group at "latest" may still replay a few earlier messages (the
    embedded broker's end offsets are wrong after multi-message batches; see PRODUCT.md)."""
    before = None
    while True:
        now = value(scrape(url), name, **labels) or 0
        if now == before:
            return now
        before = now
        time.sleep(1.5)


def wait_for_metrics(url, what, predicate, timeout=60):
    """Scrapes until `predicate(samples)` holds; returns those samples."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(url)
        if predicate(samples):
            return samples
        assert time.monotonic() < deadline, f"{what} never held; last scrape: {samples}"
        time.sleep(0.5)
