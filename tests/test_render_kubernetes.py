"""`render kubernetes`: every manifest passes kubernetes-validate (strict, offline schemas), the KEDA
objects pass a schema written from KEDA's documentation field by field, grace periods outlast every
time limit, no secret reaches a manifest, and the CLI writes, checks, prunes and overrides like the
other targets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from celery_topology import load
from celery_topology.render import RenderError, render
from celery_topology.render.kubernetes import SECRET_KEYS

from support import ROOT, run_cli

KUBERNETES_VERSIONS = ("1.30.0", "1.33.0")  # kubernetes-validate's offline schemas
CASES = {
    "shipped": "topology.yaml",
    "k8s-redis": "tests/data/k8s-redis.yaml",
    "k8s-rabbitmq": "tests/data/k8s-rabbitmq.yaml",
}
KEDA = json.loads((ROOT / "tests/data/keda.schema.json").read_text())
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def documents(case: str, environ: dict[str, str] | None = None) -> dict[str, list[dict[str, Any]]]:
    topology = load(ROOT / CASES[case], environ=environ or {})
    return {f.path: [d for d in yaml.safe_load_all(f.text) if d] for f in render(topology, "kubernetes", CASES[case])}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_manifest_validates(case: str) -> None:
    kinds = []
    for name, docs in documents(case).items():
        for doc in docs:
            kinds.append(doc["kind"])
            if doc["apiVersion"].startswith("keda.sh/"):
                jsonschema.validate(doc, KEDA)
            elif doc["kind"] == "Kustomization":
                assert name == "kustomization.yaml"
            else:
                for version in KUBERNETES_VERSIONS:
                    kubernetes_validate.validate(doc, version, strict=True)
    assert {"Deployment", "PodDisruptionBudget", "Kustomization", "ScaledObject", "TriggerAuthentication"} <= set(kinds)


def test_keda_schema_refuses_an_undocumented_field() -> None:
    """The schema is closed: it would catch a field KEDA does not document."""
    (scaled,) = [d for d in documents("k8s-redis")["shop-worker-checkout.yaml"] if d["kind"] == "ScaledObject"]
    scaled["spec"]["triggers"][0]["metadata"]["listname"] = "typo"
    with pytest.raises(jsonschema.ValidationError, match="listname"):
        jsonschema.validate(scaled, KEDA)
    scaled["spec"]["triggers"][0]["metadata"].pop("listname")
    scaled["spec"]["advanced"]["scalingModifiers"]["formula_"] = "x"
    with pytest.raises(jsonschema.ValidationError, match="formula_"):
        jsonschema.validate(scaled, KEDA)


def scaled_objects(case: str, environ: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d
        for docs in documents(case, environ).values()
        for d in docs
        if d["kind"] == "ScaledObject"
    }


def test_redis_triggers_are_every_priority_list_summed() -> None:
    scaled = scaled_objects("k8s-redis")["shop-worker-checkout"]
    triggers = scaled["spec"]["triggers"]
    names = [t["name"] for t in triggers]
    assert len(names) == len(set(names)) == 20  # two queues x ten priority steps
    assert all(IDENTIFIER.fullmatch(n) for n in names)
    modifiers = scaled["spec"]["advanced"]["scalingModifiers"]
    assert modifiers["formula"] == " + ".join(names)
    assert modifiers == {
        "formula": modifiers["formula"],
        "target": "10",
        "activationTarget": "0",
        "metricType": "AverageValue",
    }
    lists = [t["metadata"]["listName"] for t in triggers]
    assert lists[:2] == ["payments", "payments\x06\x161"] and lists[10:12] == ["orders", "orders\x06\x161"]
    assert lists[9] == "payments\x06\x169"
    assert {t["metadata"]["databaseIndex"] for t in triggers} == {"3"}
    assert {t["authenticationRef"]["name"] for t in triggers} == {"shop-keda"}
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (2, 20)
    assert scaled_objects("k8s-redis")["shop-worker-images"]["spec"]["minReplicaCount"] == 0


def test_rabbitmq_triggers_are_one_per_queue() -> None:
    scaled = scaled_objects("k8s-rabbitmq")["shop-worker-checkout"]
    assert [t["metadata"] for t in scaled["spec"]["triggers"]] == [
        {"protocol": "amqp", "queueName": queue, "mode": "QueueLength", "value": "8"}
        for queue in ("payments", "orders")
    ]
    assert scaled["spec"]["advanced"]["scalingModifiers"]["formula"] == "q2 + q1"


def test_database_index_comes_from_the_broker_url_and_no_secret_is_written() -> None:
    password = "s3cr3t-Pa55w0rd"
    url = f"rediss://celery-user:{password}@redis.internal:6380/7"
    environ = {"CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url}
    topology = load(ROOT / CASES["k8s-redis"], environ=environ)
    files = render(topology, "kubernetes", "t.yaml")
    for f in files:
        assert password not in f.text and "redis.internal" not in f.text and "celery-user" not in f.text, f.path
    triggers = scaled_objects("k8s-redis", environ)["shop-worker-checkout"]["spec"]["triggers"]
    assert {(t["metadata"]["databaseIndex"], t["metadata"]["enableTLS"]) for t in triggers} == {("7", "true")}
    auth = next(
        d for docs in documents("k8s-redis", environ).values() for d in docs if d["kind"] == "TriggerAuthentication"
    )
    assert [(r["parameter"], r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]] == [
        (parameter, "shop-celery-env", key) for parameter, key in SECRET_KEYS["redis"].items()
    ]


def worker_deployments(case: str) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d
        for docs in documents(case).values()
        for d in docs
        if d["kind"] == "Deployment" and "-worker-" in d["metadata"]["name"]
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_grace_period_outlasts_every_time_limit_of_the_pool(case: str) -> None:
    topology = load(ROOT / CASES[case], environ={})
    deployments = worker_deployments(case)
    for name, pool in topology.pools.items():
        limits = [pool.time_limit, topology.defaults.time_limit]
        limits += [r.time_limit for r in topology.routes.values() if r.queue in pool.queues]
        grace = deployments[f"{topology.unit_prefix}-worker-{name}".replace("_", "-")]["spec"]["template"]["spec"]
        assert all(grace["terminationGracePeriodSeconds"] > limit for limit in limits if limit is not None), name
    assert (
        deployments["shop-worker-reports"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 3 * 3600 + 30
        if case == "k8s-redis"
        else True
    )


def test_worker_pod_runs_celery_as_pid_1_hardened_with_probes() -> None:
    deployment = worker_deployments("k8s-redis")["shop-worker-reports"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"][:4] == ["/app/.venv/bin/celery", "-A", "shop.celery:app", "worker"]
    assert "--concurrency=2" in container["command"] and "args" not in container
    assert container["envFrom"] == [{"secretRef": {"name": "shop-celery-env"}}]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["volumeMounts"] == [{"name": "scratch", "mountPath": "/tmp"}]
    live = ["/app/.venv/bin/celery-topology", "probe", "live", "--pool", "reports", "--window", "120"]
    assert container["livenessProbe"]["exec"]["command"] == live
    assert container["readinessProbe"]["exec"]["command"] == [*live[:2], "ready", *live[3:]]
    assert pod["tolerations"][1] == {
        "key": "batch",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 3600,
    }
    assert deployment["spec"]["replicas"] == 2
    assert "replicas" not in worker_deployments("k8s-redis")["shop-worker-checkout"]["spec"]  # KEDA owns it


def test_beat_is_one_replica_recreated() -> None:
    beat = documents("k8s-redis")["shop-beat.yaml"][0]
    assert (beat["spec"]["replicas"], beat["spec"]["strategy"]) == (1, {"type": "Recreate"})
    assert beat["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    (container,) = beat["spec"]["template"]["spec"]["containers"]
    assert "--schedule=/var/lib/shop/celerybeat-schedule" in container["command"]
    assert {"name": "state", "mountPath": "/var/lib/shop"} in container["volumeMounts"]  # writable, the root is not


def test_refusals(tmp_path: Path) -> None:
    topology = load(ROOT / "tests/data/large.yaml", environ={})
    with pytest.raises(RenderError, match=r"no deploy\.kubernetes section: add deploy\.kubernetes\.image"):
        render(topology, "kubernetes", "large.yaml")
    with pytest.raises(RenderError, match=r"place pools with deploy\.kubernetes\.pools"):
        render(load(ROOT / "topology.yaml", environ={}), "kubernetes", "t", "app-1")
    with pytest.raises(RenderError, match="--namespace is for the kubernetes target only"):
        render(topology, "systemd", "t", namespace="x")
    result = run_cli("render", "kubernetes", "--namespace", "Bad_NS")
    assert result.returncode == 1 and "--namespace 'Bad_NS': a namespace is at most 63" in result.stderr


def test_cli_writes_checks_overrides_and_prunes(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    source = tmp_path / "topology.yaml"
    source.write_text((ROOT / CASES["k8s-rabbitmq"]).read_text())
    assert run_cli("-f", source, "render", "kubernetes", "-o", out, "--namespace", "prod").returncode == 0
    assert 'namespace: "prod"' in (out / "kustomization.yaml").read_text()
    listed = yaml.safe_load((out / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in out.iterdir() if p.name != "kustomization.yaml")
    check = run_cli("-f", source, "render", "kubernetes", "-o", out, "--namespace", "prod", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    source.write_text(source.read_text().replace("  mail:\n", "  mailer:\n"))
    drift = run_cli("-f", source, "render", "kubernetes", "-o", out, "--namespace", "prod", "--check")
    assert drift.returncode == 1 and "shop-worker-mail.yaml" in drift.stdout
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "kustomization.yaml.j2").write_text("{{ header }}\n# ours\nresources: {{ files | k8s }}\n")
    pruned = run_cli("-f", source, "render", "kubernetes", "-o", out, "--prune", "--template-dir", templates)
    assert pruned.returncode == 0, pruned.stderr
    assert "removed" in pruned.stdout and not (out / "shop-worker-mail.yaml").exists()
    assert (out / "shop-worker-mailer.yaml").exists() and "# ours" in (out / "kustomization.yaml").read_text()


def test_pods_of_an_environment_load_that_environment() -> None:
    """`render kubernetes --env production`: every container's configure(app) merges production, as the units' do
    (without it the beat replicas ran RedBeat's own lock timeout and key prefix, the workers the base file)."""
    topology = load(ROOT / "topology.yaml", environ={}, env="production")
    files = render(topology, "kubernetes", "topology.yaml")
    pods = [d for f in files for d in yaml.safe_load_all(f.text) if d and d["kind"] == "Deployment"]
    assert len(pods) == 5  # four pools and beat
    for pod in pods:
        (container,) = pod["spec"]["template"]["spec"]["containers"]
        assert {"name": "CELERY_TOPOLOGY_ENV", "value": "production"} in container["env"], pod["metadata"]["name"]
    base = render(load(ROOT / "topology.yaml", environ={}), "kubernetes", "topology.yaml")
    assert not any("CELERY_TOPOLOGY_ENV" in f.text for f in base)
