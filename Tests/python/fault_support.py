"""Hostile inputs and process handles for the fault suite: zips and CSVs made to hang, exhaust or
confuse a validator, messages too large or made to fail, and ways to find, pause and measure a
service's process."""
import json
import os
import struct
import time
import uuid
import zipfile
import zlib

from confluent_kafka import Producer

from conftest import broker


# Files

def never_ending_deflate_zip(path, name="charges.csv"):
    """A 119-byte kind of zip: one deflate entry whose stream is a stored block's header and nothing
    after it, so the stream never ends (it declares 100 bytes of CSV)."""
    data = b"\x00"  # BFINAL=0, BTYPE=00 (stored): LEN, NLEN and the bytes should follow, and never do
    name_bytes = name.encode()
    crc, declared = 0, 100
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), declared, len(name_bytes), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), declared,
                          len(name_bytes), 0, 0, 0, 0, 0, 0)
    offset = len(local) + len(name_bytes) + len(data)
    directory = central + name_bytes
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(directory), offset, 0)
    path.write_bytes(local + name_bytes + data + directory + end)
    return path


def high_ratio_zip(path, megabytes=40):
    """A zip whose CSV unpacks to `megabytes` MB of one repeated row: over a thousand times its packed size."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("charges.csv", "w") as entry:
            entry.write(b"Charge Id,Amount\n")
            row = b"RPC-00000001,1.00\n" * 10_000
            for _ in range(megabytes * 1_000_000 // len(row)):
                entry.write(row)
    return path


def line_without_line_break(path, megabytes=5):
    """A CSV that is one line of `megabytes` MB: the header never ends."""
    path.write_bytes(b"Charge Id,Amount," + b"a" * (megabytes * 1_000_000))
    return path


def huge_field(path, megabytes=2):
    """A valid header, then a row whose quoted field is `megabytes` MB."""
    path.write_bytes(b"Charge Id,Amount,Note\r\nRPC-00000001,1.00,\"" + b"x" * (megabytes * 1_000_000) + b"\"\r\n")
    return path


def many_columns(path, columns=5000):
    """A header of `columns` columns."""
    path.write_text("Charge Id,Amount," + ",".join(f"c{n}" for n in range(columns)) + "\nRPC-00000001,1.00\n")
    return path


def big_zip(path, copies=6):
    """A zip of about 185 MB of CSV (33 MB packed, an ordinary ratio): seconds to unpack."""
    rows = b"".join(f"RPC-{n:08d},2025-{n % 12 + 1:02d}-15,ACC-{n % 97}\n".encode() for n in range(1_000_000))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("big.csv", "w", force_zip64=True) as entry:
            entry.write(b"Charge Id,Booking Date,Accounting Code\n")
            for _ in range(copies):
                entry.write(rows)
    return path


# Messages

def produce_raw(topic, key, value, headers=None):
    """Publishes bytes as they are (a hostile publisher): the producer accepts up to 4 MB."""
    producer = Producer({"bootstrap.servers": broker(), "enable.idempotence": True, "message.max.bytes": 4_000_000})
    producer.produce(topic, key=key, value=value, headers=headers or [])
    assert producer.flush(30) == 0


def messages_by_key(topic, keys, timeout=60):
    """{key: (headers, value)} of the first message of each of `keys` on a topic, read once from its
    start until every key was seen."""
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": broker(), "group.id": f"faults-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000, "fetch.wait.max.ms": 50})
    consumer.subscribe([topic])
    found, deadline = {}, time.monotonic() + timeout
    try:
        while set(found) != set(keys):
            assert time.monotonic() < deadline, f"never on {topic}: {sorted(set(keys) - set(found))}"
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            key = (message.key() or b"").decode(errors="replace")
            if key in keys and key not in found:
                found[key] = ({name: value.decode() for name, value in (message.headers() or [])}, message.value())
    finally:
        consumer.close()
    return found


def envelope(message_type, job_id, payload):
    return json.dumps({"type": message_type, "version": "1.0", "jobId": job_id,
                       "time": "2026-11-22T10:00:00.000Z", "payload": payload}).encode()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# Processes

def pid_of_owner(owner):
    """The process id in a job's `owner` column (host-pid-random)."""
    return int(owner.rsplit("-", 2)[-2])


def peak_memory_mb(pid):
    """The peak resident memory of a process (VmHWM), in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


def wait_for(what, predicate, timeout=60, interval=0.1):
    """Waits until `predicate()` returns something true; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(interval)


def files_under(folder):
    return [os.path.join(root, name) for root, _, names in os.walk(folder) for name in names]


def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF
