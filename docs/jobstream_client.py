"""A small client of jobstream's HTTP API, with Python's standard library only: the recipe for any
language. It submits a file, follows the job to its end, and downloads its result.

    export JOBSTREAM_URL=http://127.0.0.1:8080 JOBSTREAM_TOKEN=js_...   # a named token
    python3 docs/jobstream_client.py update-rate-plan-charge charges.csv --preview

Every call is one HTTP request (see /api/openapi.json): a token as `Authorization: Bearer TOKEN`,
errors as `{"error": "..."}` with the status code. The job log records the token's name as who
submitted, applied or canceled.
"""
import argparse
import base64
import hashlib
import json
import os
import pathlib
import sys
import urllib.error
import urllib.parse
import urllib.request


class JobstreamError(Exception):
    """The API refused a request: its status code and the reason it gave."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class Jobstream:
    """One dashboard's API, called with one token."""

    def __init__(self, url, token, timeout=60):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _open(self, method, path, body=None, headers=None, timeout=None):
        request = urllib.request.Request(self.url + path, data=body, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            return urllib.request.urlopen(request, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as error:
            try:
                message = json.loads(error.read()).get("error", "")
            except ValueError:
                message = error.reason
            raise JobstreamError(error.code, message) from None

    def _json(self, method, path, payload=None):
        body = None if payload is None else json.dumps(payload).encode()
        headers = {} if payload is None else {"Content-Type": "application/json"}
        with self._open(method, path, body, headers) as response:
            return json.loads(response.read())

    def submit(self, action, file=None, preview=False, max_failed=None, rate=None):
        """Submits a backfill; the file (a path) is streamed as the body with its MD5, so a damaged
        upload is refused on arrival. Returns the answer: `jobId`, and where to follow it."""
        query = {"action": action}
        if preview:
            query["preview"] = "true"
        if max_failed is not None:
            query["maxFailed"] = str(max_failed)
        if rate is not None:
            query["rate"] = str(rate)
        body, headers = None, {}
        if file is not None:
            file = pathlib.Path(file)
            query["filename"] = file.name
            digest = hashlib.md5()
            with open(file, "rb") as handle:
                for piece in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(piece)
            headers = {"Content-Type": "text/csv" if file.suffix.lower() == ".csv" else "application/zip",
                       "Content-MD5": base64.b64encode(digest.digest()).decode(),
                       "Content-Length": str(file.stat().st_size)}
            body = open(file, "rb")  # urllib sends a file object in pieces, never whole in memory
        try:
            with self._open("POST", "/api/backfills?" + urllib.parse.urlencode(query), body, headers) as response:
                return json.loads(response.read())
        finally:
            if body is not None:
                body.close()

    def act(self, job, action, **fields):
        """apply, pause, resume, rate, cancel, revert or retry; e.g. `act(job, "rate", rowsPerSecond=500)`."""
        return self._json("POST", f"/api/backfills/{urllib.parse.quote(job, safe='')}/{action}", fields)

    def backfill(self, job):
        return self._json("GET", f"/api/backfills/{urllib.parse.quote(job, safe='')}")

    def follow(self, job, kind="backfills", timeout=3600):
        """Yields the job at each change, as server-sent events bring it, until its last status."""
        path = f"/api/{kind}/{urllib.parse.quote(job, safe='')}/events"
        with self._open("GET", path, headers={"Accept": "text/event-stream"}, timeout=timeout) as stream:
            event, data = None, []
            for raw in stream:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "":
                    if event == "status" and data:
                        yield json.loads("\n".join(data))
                    event, data = None, []

    def wait(self, job, kind="backfills", timeout=3600):
        """The job once it has ended."""
        last = None
        for last in self.follow(job, kind, timeout):
            pass
        return last

    def download(self, job, destination, failures_only=False):
        """Writes the job's result file (a preview's preview file), or only its failed rows, piece by piece."""
        path = f"/api/backfills/{urllib.parse.quote(job, safe='')}/{'failures' if failures_only else 'result'}"
        with self._open("GET", path) as response, open(destination, "wb") as out:
            for piece in iter(lambda: response.read(1 << 20), b""):
                out.write(piece)
        return pathlib.Path(destination)


def main():
    parser = argparse.ArgumentParser(description="Submit a backfill over HTTP, follow it, download its result.")
    parser.add_argument("action")
    parser.add_argument("file", nargs="?")
    parser.add_argument("--preview", action="store_true")
    parser.add_argument("--result", default=None, help="where to write the result file (default: beside the file)")
    arguments = parser.parse_args()
    client = Jobstream(os.environ.get("JOBSTREAM_URL", "http://127.0.0.1:8080"), os.environ["JOBSTREAM_TOKEN"])
    try:
        job = client.submit(arguments.action, arguments.file, preview=arguments.preview)["jobId"]
        print(f"submitted {job}")
        ended = None
        for ended in client.follow(job):
            print(f"{ended['status']}: {ended['recordsProcessed']} of {ended.get('recordsTotal', '?')} rows")
        if ended and ended.get("resultFile"):
            destination = arguments.result or f"{job}-{ended['resultFile']}"
            print(f"result: {client.download(job, destination)}")
        return 0 if ended and ended["status"] == "Completed" else 1
    except JobstreamError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
