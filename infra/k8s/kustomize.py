"""Render a kustomization the way `kubectl apply -k` / `kustomize build` would, for the subset of
kustomize these manifests use, so that tests can validate what a cluster would receive.

Written by hand: no maintained kustomize renderer exists on PyPI (the Go binary is the only
implementation) and no kustomize/kubectl binary can be installed here. Supported, and nothing
else (an unknown kustomization field is an error, so a new feature cannot be silently ignored):

- `resources`: files (several YAML documents each) and folders holding a kustomization.yaml
- `namespace`: set on every object
- `labels` (pairs, includeSelectors false, includeTemplates) and `commonLabels` (also selectors)
- `images`: name -> newName / newTag / digest, in containers and initContainers
- `patches` with `path` (strategic merge; target found by kind and metadata.name): maps merge,
  lists of containers/initContainers/env/volumes/volumeMounts merge by `name`, ports by
  `containerPort`, every other list is replaced (as in Kubernetes' strategic merge for the
  fields patched here); `$patch` directives are not supported
- `configMapGenerator` (files, literals, options.labels, generatorOptions.disableNameSuffixHash):
  the name gets a content-hash suffix and references from pod templates (volumes, envFrom,
  env valueFrom) are renamed. The suffix is this renderer's own (sha256 of the content), not
  necessarily kustomize's byte-for-byte; kustomize renames consistently in the same places.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import yaml

KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "labels", "commonLabels", "images", "patches",
                "configMapGenerator", "generatorOptions"}
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "name", "ports": "containerPort"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


class KustomizeError(ValueError):
    pass


def build(folder: Path) -> list[dict]:
    """Every object `kubectl apply -k folder` would send, in resource order."""
    folder = Path(folder)
    kfile = folder / "kustomization.yaml"
    if not kfile.exists():
        raise KustomizeError(f"{folder} has no kustomization.yaml")
    k = yaml.safe_load(kfile.read_text()) or {}
    unknown = set(k) - KNOWN_FIELDS
    if unknown:
        raise KustomizeError(f"{kfile}: fields this renderer does not implement: {sorted(unknown)}")
    objects: list[dict] = []
    for res in k.get("resources", []):
        path = folder / res
        if path.is_dir():
            objects += build(path)
        else:
            objects += [d for d in yaml.safe_load_all(path.read_text()) if d]
    renames = {}
    for gen in k.get("configMapGenerator", []):
        cm = _config_map(folder, gen, k.get("generatorOptions", {}))
        renames[gen["name"]] = cm["metadata"]["name"]
        objects.append(cm)
    for patch in k.get("patches", []):
        if set(patch) != {"path"}:
            raise KustomizeError(f"{kfile}: only `patches: - path:` (strategic merge) is supported")
        for doc in yaml.safe_load_all((folder / patch["path"]).read_text()):
            _apply_patch(objects, doc, kfile)
    for obj in objects:
        if renames:
            _rename_config_maps(obj, renames)
        if "namespace" in k:
            obj.setdefault("metadata", {})["namespace"] = k["namespace"]
        for entry in k.get("labels", []):
            _add_labels(obj, entry["pairs"], entry.get("includeSelectors", False), entry.get("includeTemplates", False))
        if k.get("commonLabels"):
            _add_labels(obj, k["commonLabels"], True, True)
        for image in k.get("images", []):
            _set_image(obj, image)
    return objects


def _config_map(folder: Path, gen: dict, options: dict) -> dict:
    data = {}
    for entry in gen.get("files", []):
        key, _, rel = entry.partition("=") if "=" in entry else (Path(entry).name, "", entry)
        data[key] = (folder / rel).read_text()
    for literal in gen.get("literals", []):
        key, value = literal.split("=", 1)
        data[key] = value
    name = gen["name"]
    opts = {**options, **gen.get("options", {})}
    if not opts.get("disableNameSuffixHash"):
        digest = hashlib.sha256(json.dumps({"kind": "ConfigMap", "name": name, "data": data},
                                           sort_keys=True).encode()).hexdigest()
        name = f"{name}-{digest[:10]}"
    meta: dict = {"name": name}
    if opts.get("labels"):
        meta["labels"] = dict(opts["labels"])
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def _apply_patch(objects: list[dict], patch: dict, kfile: Path) -> None:
    targets = [o for o in objects if o.get("kind") == patch.get("kind")
               and o["metadata"]["name"] == patch["metadata"]["name"]]
    if len(targets) != 1:
        raise KustomizeError(f"{kfile}: patch for {patch.get('kind')}/{patch['metadata']['name']} "
                             f"matches {len(targets)} objects")
    merged = strategic_merge(targets[0], patch)
    targets[0].clear()
    targets[0].update(merged)


def strategic_merge(base: object, patch: object, field: str = "") -> object:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for key, value in patch.items():
            if isinstance(value, str) and value.startswith("$patch"):
                raise KustomizeError("$patch directives are not supported")
            out[key] = strategic_merge(base[key], value, key) if key in base else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and field in MERGE_KEYS:
        key = MERGE_KEYS[field]
        out = copy.deepcopy(base)
        for item in patch:
            match = next((i for i, b in enumerate(out) if b.get(key) == item.get(key)), None)
            if match is None:
                out.append(copy.deepcopy(item))
            else:
                out[match] = strategic_merge(out[match], item, "")
        return out
    return copy.deepcopy(patch)


def _pod_specs(obj: dict) -> list[dict]:
    if obj.get("kind") not in WORKLOADS:
        return []
    return [obj["spec"]["template"]["spec"]]


def _rename_config_maps(obj: dict, renames: dict[str, str]) -> None:
    for pod in _pod_specs(obj):
        for vol in pod.get("volumes", []):
            if "configMap" in vol and vol["configMap"]["name"] in renames:
                vol["configMap"]["name"] = renames[vol["configMap"]["name"]]
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            for src in c.get("envFrom", []):
                ref = src.get("configMapRef")
                if ref and ref["name"] in renames:
                    ref["name"] = renames[ref["name"]]
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("configMapKeyRef")
                if ref and ref["name"] in renames:
                    ref["name"] = renames[ref["name"]]


def _add_labels(obj: dict, pairs: dict, selectors: bool, templates: bool) -> None:
    obj.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
    spec = obj.get("spec", {})
    if templates and obj.get("kind") in WORKLOADS:
        spec["template"].setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
    if selectors:
        if obj.get("kind") == "Service":
            spec.setdefault("selector", {}).update(pairs)
        elif obj.get("kind") in WORKLOADS - {"Job"}:
            spec["selector"].setdefault("matchLabels", {}).update(pairs)


def _set_image(obj: dict, image: dict) -> None:
    for pod in _pod_specs(obj):
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            name, sep, tag = c["image"].partition("@") if "@" in c["image"] else (*_split_tag(c["image"]),)
            if name != image["name"]:
                continue
            new = image.get("newName", name)
            if image.get("digest"):
                c["image"] = f"{new}@{image['digest']}"
            elif image.get("newTag"):
                c["image"] = f"{new}:{image['newTag']}"
            else:
                c["image"] = f"{new}{sep}{tag}"


def _split_tag(ref: str) -> tuple[str, str, str]:
    head, _, last = ref.rpartition("/")
    if ":" in last:
        last, tag = last.split(":", 1)
        return (f"{head}/{last}" if head else last), ":", tag
    return ref, "", ""
