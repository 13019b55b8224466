"""Another language on jobstream's topics: a Python Kafka client (confluent-kafka) and the Swift side
exchange messages, each checked against the published JSON Schema."""
import json
import uuid
from datetime import datetime, timezone

from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
from jsonschema import Draft202012Validator, FormatChecker

from conftest import broker


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validate(schema, message):
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(message)


def read_all(topic, expected, timeout=30.0):
    """Reads `expected` messages from every partition of `topic` by direct assignment (no group join)."""
    consumer = Consumer({"bootstrap.servers": broker(), "group.id": f"py-{uuid.uuid4().hex[:6]}",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 20})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    messages, waited = [], 0.0
    while len(messages) < expected and waited < timeout:
        message = consumer.poll(0.5)
        waited += 0.5
        if message is not None and message.error() is None:
            messages.append(message)
    consumer.close()
    return messages


def test_a_request_published_from_python_is_decoded_by_swift(cli, schemas, topic):
    job = f"bf-py-{uuid.uuid4().hex[:6]}"
    request = {"type": "backfill.request", "version": "1.0", "jobId": job, "time": now(),
               "payload": {"action": "update-rate-plan-charge", "generatedBy": "python-script",
                           "file": {"path": f"uploads/{job}/charges.csv", "name": "charges.csv"}}}
    validate(schemas["jobstream.backfill.requests"], request)
    producer = Producer({"bootstrap.servers": broker(), "enable.idempotence": True, "acks": "all"})
    producer.produce(topic, key=job, value=json.dumps(request).encode())
    producer.produce(topic, key=job, value=b"{not json")
    assert producer.flush(10) == 0

    result = cli("messages", "tail", "--topic", topic, "--count", "2", "--seconds", "40", timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    decoded = [line for line in lines if "message" in line]
    refused = [line for line in lines if "error" in line]
    assert len(decoded) == 1 and len(refused) == 1, result.stdout
    assert decoded[0]["key"] == job
    assert decoded[0]["message"]["payload"] == request["payload"]
    assert decoded[0]["message"]["jobId"] == job
    assert refused[0]["error"].startswith("not a JSON message")


def test_a_status_event_published_by_swift_is_read_by_python(cli, schemas, topic, tmp_path):
    job = f"bf-sw-{uuid.uuid4().hex[:6]}"
    event = {"type": "backfill.status", "version": "1.0", "jobId": job, "time": now(),
             "extraFieldFromTheFuture": True,
             "payload": {"action": "booking-date-from-created", "generatedBy": "ops", "recordsProcessed": 1200,
                         "recordsFailed": 0, "status": "Processing", "startDate": now()}}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    result = cli("messages", "publish", "--topic", topic, str(path))
    assert result.returncode == 0, result.stderr

    [message] = read_all(topic, expected=1)
    assert message.key().decode() == job
    received = json.loads(message.value())
    validate(schemas["jobstream.backfill.status"], received)
    assert "extraFieldFromTheFuture" not in received, "the Swift codec re-encodes, dropping unknown fields"
    assert received["payload"]["status"] == "Processing"
    assert received["payload"]["recordsProcessed"] == 1200
    assert received["jobId"] == job


def test_the_swift_cli_refuses_to_publish_an_invalid_message(cli, topic, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"type": "backfill.status", "version": "1.0", "jobId": "x", "time": now(),
                                "payload": {"action": "a", "generatedBy": "b", "recordsProcessed": 1,
                                            "recordsFailed": 0, "status": "Done"}}))
    result = cli("messages", "publish", "--topic", topic, str(path))
    assert result.returncode != 0
    assert "payload.status" in result.stderr
