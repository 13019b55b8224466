"""Renders deploy/kubernetes' kustomizations for the deploy tests, as `kubectl apply -k` would: the
resources in order (a folder is its own kustomization), then the patches. Only what these files use
is done — JSON patches (RFC 6902, by `jsonpatch`) on a target kind and name, and `$patch: delete` of a
whole object; anything else fails the test rather than being rendered differently from kustomize."""
import copy
import pathlib

import jsonpatch
import yaml


def render(folder):
    """(file name, object) of every object the kustomization in `folder` makes."""
    folder = pathlib.Path(folder)
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(kustomization) - {"apiVersion", "kind", "resources", "patches"}
    assert not unknown, f"{folder}/kustomization.yaml uses {sorted(unknown)}, which this rendering does not do"
    found = []
    for resource in kustomization.get("resources", []):
        path = (folder / resource).resolve()
        if path.is_dir():
            found += render(path)
        else:
            found += [(path.name, document) for document in yaml.safe_load_all(path.read_text()) if document is not None]
    for patch in kustomization.get("patches", []):
        text = patch["patch"] if "patch" in patch else (folder / patch["path"]).read_text()
        body = yaml.safe_load(text)
        if isinstance(body, dict):
            assert body.pop("$patch", None) == "delete", f"only `$patch: delete` is rendered here, not {text[:80]}"
            matches = [item for item in found if same_object(item[1], body)]
            assert matches, f"the delete patch matches nothing: {body}"
            found = [item for item in found if not same_object(item[1], body)]
            continue
        target = patch["target"]
        matches = [i for i, (_, doc) in enumerate(found)
                   if doc["kind"] == target["kind"] and doc["metadata"]["name"] == target["name"]]
        assert len(matches) == 1, f"the patch's target {target} matches {len(matches)} objects"
        name, document = found[matches[0]]
        found[matches[0]] = (name, jsonpatch.apply_patch(copy.deepcopy(document), body))
    return found


def same_object(document, selector):
    return (document["kind"] == selector["kind"] and document["metadata"]["name"] == selector["metadata"]["name"]
            and document["metadata"].get("namespace") == selector["metadata"].get("namespace"))
