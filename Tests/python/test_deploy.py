"""deploy/: every Kubernetes manifest valid against the Kubernetes schemas (kubernetes-validate, which
ships them) and KEDA's objects against theirs; the manifests consistent with each other and with the
services (groups, topics, partitions, ports, settings); the systemd units accepted by systemd-analyze."""
import pathlib
import re
import shutil
import subprocess

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import ROOT
from keda_schema import SCHEMAS as KEDA_SCHEMAS
from kustomize_support import render

KUBERNETES = ROOT / "deploy" / "kubernetes"
SYSTEMD = ROOT / "deploy" / "systemd"
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]  # the oldest and newest Kubernetes releases the manifests are checked for
SERVICES = ["backfill-validator", "backfill-processor", "migration-runner", "sync-history-recorder", "dashboard"]


VARIANTS = {"shared-volume": KUBERNETES, "object-store": KUBERNETES / "object-store"}


def documents(variant="shared-volume"):
    """(file name, document) of every object a variant's kustomization makes (`kubectl apply -k`)."""
    return render(VARIANTS[variant])


def by_kind(kind, variant="shared-volume"):
    return {doc["metadata"]["name"]: doc for _, doc in documents(variant) if doc["kind"] == kind}


def test_the_kustomization_lists_every_manifest_of_the_folder():
    listed = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["resources"]
    assert listed == sorted(p.name for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")


def test_the_object_store_variant_has_no_shared_volume_and_gives_the_bucket_to_what_uses_files():
    objects = documents("object-store")
    assert not [doc for _, doc in objects if doc["kind"] == "PersistentVolumeClaim"]
    config = by_kind("ConfigMap", "object-store")["jobstream-config"]["data"]
    assert config["JOBSTREAM_FILE_STORE"].startswith("s3://")
    assert config["JOBSTREAM_SCRATCH_FOLDER"] == "/var/lib/jobstream/files"
    for name, deployment in by_kind("Deployment", "object-store").items():
        spec = deployment["spec"]["template"]["spec"]
        assert not [v for v in spec["volumes"] if "persistentVolumeClaim" in v], name
        secrets = {ref["secretRef"]["name"] for ref in spec["containers"][0]["envFrom"] if "secretRef" in ref}
        mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0].get("volumeMounts", [])}
        if name in ("backfill-validator", "dashboard"):
            assert "jobstream-object-store" in secrets, name
            assert {"name": "files", "emptyDir": {"sizeLimit": "20Gi"}} in spec["volumes"], name
            assert mounts["files"] == config["JOBSTREAM_SCRATCH_FOLDER"], name
        else:
            assert "jobstream-object-store" not in secrets and "files" not in mounts, f"{name} never touches files"


def test_the_folder_holds_every_part_of_a_deployment():
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in documents()}
    assert {("Deployment", name) for name in SERVICES} <= kinds
    assert {("ScaledObject", name) for name in SERVICES if name != "dashboard"} <= kinds
    assert {("Job", "jobstream-topics"), ("ConfigMap", "jobstream-config"), ("Secret", "jobstream-secrets"),
            ("Namespace", "jobstream"), ("TriggerAuthentication", "jobstream-kafka")} <= kinds


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_kubernetes_object_is_valid_against_the_kubernetes_schemas(version, variant):
    checked = 0
    for name, document in documents(variant):
        if document["apiVersion"].startswith("keda.sh/"):
            continue
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name}: {document['kind']} {document['metadata']['name']} is invalid for Kubernetes {version}: "
                        f"{error.message} at {'.'.join(map(str, error.path))}")
        checked += 1
    assert checked >= 10


def test_the_validator_refuses_an_invalid_manifest():
    deployment = by_kind("Deployment")["backfill-processor"]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["port"] = {"not": "a port"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)
    misspelt = yaml.safe_load(yaml.safe_dump(deployment))
    misspelt["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSIONS[-1], strict=True)


def test_every_keda_object_is_valid_against_its_schema():
    keda = [(name, doc) for name, doc in documents() if doc["apiVersion"].startswith("keda.sh/")]
    assert len(keda) == 5
    for name, document in keda:
        jsonschema.validate(document, KEDA_SCHEMAS[document["kind"]])
    wrong = yaml.safe_load(yaml.safe_dump(by_kind("ScaledObject")["backfill-processor"]))
    wrong["spec"]["triggers"][0]["metadata"]["lagTreshold"] = "20"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, KEDA_SCHEMAS["ScaledObject"])


def topic_partitions(cli):
    result = cli("topics", "list")
    assert result.returncode == 0, result.stderr
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(jobstream\.\S+)\s+(\d+) partitions", result.stdout, re.M)}


@pytest.mark.usefixtures("topics")
def test_each_stage_scales_on_its_own_group_and_topic_and_never_past_its_partitions(cli):
    partitions = topic_partitions(cli)
    deployments = by_kind("Deployment")
    for name, scaled in by_kind("ScaledObject").items():
        target = scaled["spec"]["scaleTargetRef"]["name"]
        assert target in deployments, f"{name} scales {target}, which is not a Deployment here"
        trigger = scaled["spec"]["triggers"][0]["metadata"]
        assert trigger["consumerGroup"] == f"jobstream.{target}", "the group the service joins by default"
        assert trigger["topic"] in partitions, f"{trigger['topic']} is not a jobstream topic"
        assert scaled["spec"]["maxReplicaCount"] <= partitions[trigger["topic"]], \
            f"{name}: instances past {trigger['topic']}'s {partitions[trigger['topic']]} partitions would sit idle"
        assert trigger["bootstrapServers"] == by_kind("ConfigMap")["jobstream-config"]["data"]["JOBSTREAM_BROKERS"]


def test_deployments_wire_probes_metrics_and_configuration_consistently():
    config = by_kind("ConfigMap")["jobstream-config"]["data"]
    secrets = by_kind("Secret")
    claims = by_kind("PersistentVolumeClaim")
    for name, deployment in by_kind("Deployment").items():
        pod = deployment["spec"]["template"]
        container = pod["spec"]["containers"][0]
        assert container["image"].rsplit("/", 1)[1].split(":")[0] == name, "one image per service"
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert ports["operations"] == int(config["JOBSTREAM_METRICS_PORT"]) == int(pod["metadata"]["annotations"]["prometheus.io/port"])
        assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "operations"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "operations"}
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        sources = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]}
        assert sources == {"jobstream-config", "jobstream-secrets"}
        for volume in pod["spec"]["volumes"]:
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims


def documented_environment_names():
    readme = (ROOT / "README.md").read_text()
    return set(re.findall(r"`(JOBSTREAM_[A-Z0-9_]+)`", readme))


def test_every_setting_the_manifests_give_is_one_the_services_read():
    documented = documented_environment_names()
    given = set(by_kind("ConfigMap")["jobstream-config"]["data"]) | set(by_kind("Secret")["jobstream-secrets"]["stringData"])
    given |= set(by_kind("ConfigMap", "object-store")["jobstream-config"]["data"])
    given |= {env["name"] for d in by_kind("Deployment").values() for env in d["spec"]["template"]["spec"]["containers"][0].get("env", [])}
    unknown = {name for name in given if name not in documented and not name.startswith("JOBSTREAM_KAFKA_")}
    assert not unknown, f"not in the README's settings table: {sorted(unknown)}"


def test_every_systemd_unit_is_accepted_by_systemd_analyze(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: .ci/run installs systemd"
    units = sorted(SYSTEMD.glob("*.service"))
    assert {unit.name for unit in units} == {f"jobstream-{name}.service" for name in SERVICES}
    bin_dir = ROOT / ".build" / "debug"
    for unit in units:
        # The unit as installed runs /usr/local/bin/NAME; here, the executable just built.
        local = tmp_path / unit.name
        local.write_text(unit.read_text().replace("/usr/local/bin/", f"{bin_dir}/"))
        result = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True)
        output = (result.stdout + result.stderr).strip()
        assert result.returncode == 0 and not output, f"{unit.name}:\n{output}"
        config = re.search(r"--config (\S+)", unit.read_text()).group(1)
        assert (SYSTEMD / pathlib.Path(config).name).exists(), f"{unit.name} names {config}, which deploy/systemd lacks"
