"""The published JSON Schemas agree with what the Swift codec writes."""
import json
import sys

import generate
import jsonschema
import pytest
from jsonschema import Draft202012Validator, FormatChecker


def validator(schema):
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def test_schema_files_are_what_the_generator_writes(schemas):
    assert set(schemas) == set(generate.TOPICS)
    for topic in generate.TOPICS:
        assert (generate.SCHEMA_FOLDER / f"{topic}.schema.json").read_text() == generate.render(topic), \
            f"{topic}: run python3 deploy/schemas/generate.py"


def test_every_swift_example_validates_against_its_topic_schema(cli, schemas, tmp_path):
    result = cli("messages", "examples", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    types_by_topic = {t: topic for topic, types in generate.TOPICS.items() for t in types}
    examples = sorted(tmp_path.glob("*.json"))
    assert {path.stem for path in examples} == set(types_by_topic), "an example or a schema is missing"
    for path in examples:
        message = json.loads(path.read_text())
        validator(schemas[types_by_topic[path.stem]]).validate(message)


@pytest.mark.parametrize("change, complaint", [
    (lambda m: m["payload"].update(status="Done"), "'Done' is not one of"),
    (lambda m: m["payload"].pop("recordsProcessed"), "'recordsProcessed' is a required property"),
    (lambda m: m.update(version="2.0"), "does not match"),
    (lambda m: m.update(time="yesterday"), "is not a 'date-time'"),
])
def test_schemas_refuse_what_the_codec_refuses(cli, schemas, tmp_path, change, complaint):
    cli("messages", "examples", "--out", str(tmp_path))
    message = json.loads((tmp_path / "backfill.status.json").read_text())
    change(message)
    with pytest.raises(jsonschema.ValidationError, match=complaint):
        validator(schemas["jobstream.backfill.status"]).validate(message)


def test_the_openapi_document_is_its_generators_output(tmp_path):
    """Shared/Dashboard/openapi.json is what deploy/local/generate-openapi.py writes: edited there, not by hand."""
    import subprocess
    from conftest import ROOT
    out = tmp_path / "openapi.json"
    subprocess.run([sys.executable, str(ROOT / "deploy" / "local" / "generate-openapi.py"), str(out)], check=True)
    assert out.read_text() == (ROOT / "Shared" / "Dashboard" / "openapi.json").read_text()
