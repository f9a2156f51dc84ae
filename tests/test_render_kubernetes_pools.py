"""`render kubernetes` honours the real-deployment pool keys through the one plan the other targets use:
each container's command is the plan's worker argv, the pool's environment is container env, its files
and an embedded beat's schedule get writable emptyDirs, `stop_timeout` is the grace period, `beat: true`
is one Recreate pod. The real-world corpus, given a minimal deploy.kubernetes block, renders manifests
that pass kubernetes-validate. (What a pod cannot honour is refused or warned by validate: the corpus
files tests/data/{invalid/kubernetes-pod,valid/kubernetes-pod-warnings}.yaml pin that text.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from test_realworld import REALWORLD, project  # noqa: F401 - the fixture: one project, its environment set
from test_render_kubernetes import KUBERNETES_VERSIONS

from celery_topology import load
from celery_topology.render import render
from celery_topology.render.plan import Plan, build

from support import ROOT, run_cli

MINIMAL = "deploy:\n  kubernetes: {image: registry.example.com/app:1}\n"


def with_kubernetes(source: Path, target: Path) -> Path:
    """`source` with a minimal deploy.kubernetes block, every other byte as written."""
    text = source.read_text()
    assert len(re.findall(r"^deploy:\n", text, re.MULTILINE)) == 1, source
    target.write_text(re.sub(r"^deploy:\n", MINIMAL, text, flags=re.MULTILINE))
    return target


def manifests(path: Path, env: str | None = None) -> dict[str, list[dict[str, Any]]]:
    topology = load(path, env=env)
    return {f.path: [d for d in yaml.safe_load_all(f.text) if d] for f in render(topology, "kubernetes", path.name)}


def deployments(docs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for found in docs.values() for d in found if d["kind"] == "Deployment"}


def mounted(pod: dict[str, Any], directory: str) -> bool:
    """Whether `directory` lies in one of the container's mounted volumes, each an emptyDir of the pod."""
    (container,) = pod["containers"]
    empty = {v["name"] for v in pod["volumes"] if v == {"name": v["name"], "emptyDir": {}}}
    paths = [m["mountPath"] for m in container["volumeMounts"] if m["name"] in empty]
    return any(directory == p or directory.startswith(p + "/") for p in paths)


def check_against_plan(docs: dict[str, list[dict[str, Any]]], plan: Plan) -> None:
    """Each Deployment runs its planned program: argv, environment, grace period, writable directories."""
    found = deployments(docs)
    assert sorted(found) == sorted(p.name.replace("_", "-") for p in plan.programs if p.kind != "flower")
    for program in plan.programs:
        if program.kind == "flower":
            continue
        deployment = found[program.name.replace("_", "-")]
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["command"] == [w.replace("$", "$$") for w in program.argv]
        env = [(e["name"], e["value"].replace("$$", "$")) for e in container["env"]]
        assert env[-len(program.environment) :] == list(program.environment) if program.environment else True
        assert pod["terminationGracePeriodSeconds"] == program.stop_timeout
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        for directory in program.writable:
            assert mounted(pod, directory), (program.name, directory)
        if program.kind == "beat" or program.embeds_beat:
            assert mounted(pod, plan.state_directory), program.name
        if program.embeds_beat:
            assert (deployment["spec"]["replicas"], deployment["spec"]["strategy"]) == (1, {"type": "Recreate"})


def test_realworld_corpus_renders_valid_manifests(project: str, tmp_path: Path) -> None:  # noqa: F811
    path = with_kubernetes(REALWORLD / project / "topology.yaml", tmp_path / "topology.yaml")
    docs = manifests(path)
    for name, found in docs.items():
        for doc in found:
            if doc["kind"] != "Kustomization":
                for version in KUBERNETES_VERSIONS:
                    kubernetes_validate.validate(doc, version, strict=True)
            else:
                assert name == "kustomization.yaml"
    check_against_plan(docs, build(load(path)))
    result = run_cli("-f", path, "validate")
    assert result.returncode == 0, result.stdout + result.stderr


POOLS = """\
version: 1
app: shop.app
broker: {url: "redis://localhost:6379/0"}
queues: {default: {}, reports: {}, mail: {}}
pools:
  default:
    queues: [default]
    environment: {COLUMNS: "80", GREETING: "price: $5, $(HOME) stays"}
    stop_timeout: 2h
    statedb: /var/run/celery/%n/worker.state
    pidfile: /tmp/celery/%n.pid
    optimization: fair
    without_gossip: true
  reports:
    queues: [reports]
    app: shop.reports:app
    beat: true
    logfile: /var/log/celery/%n%I.log
  mail:
    queues: [mail]
    scale: {min: 0, max: 3, per_replica: 10}
beat:
  schedule:
    nightly: {task: shop.tasks.nightly, cron: "0 2 * * *"}
deploy:
  name: shop
  working_directory: /app
  celery: /app/.venv/bin/celery
  kubernetes:
    image: registry.example.com/shop:1
"""


def test_pool_keys_reach_the_pod(tmp_path: Path) -> None:
    path = tmp_path / "topology.yaml"
    path.write_text(POOLS)
    docs = manifests(path)
    check_against_plan(docs, build(load(path)))
    found = deployments(docs)
    assert "shop-beat" not in found  # embedded in the reports pool
    default = found["shop-worker-default"]["spec"]["template"]["spec"]
    (container,) = default["containers"]
    assert {"--optimization=fair", "--without-gossip", "--statedb=/var/run/celery/%n/worker.state"} <= set(
        container["command"]
    )
    assert container["env"][-2:] == [
        {"name": "COLUMNS", "value": "80"},
        {"name": "GREETING", "value": "price: $$5, $$(HOME) stays"},  # kubelet leaves $$ as one $
    ]
    assert default["terminationGracePeriodSeconds"] == 7200
    # %n is Celery's, expanded per node: the emptyDir is where the path stops being fixed; /tmp is already one
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/tmp", "/var/run/celery"]
    reports = found["shop-worker-reports"]
    (worker,) = reports["spec"]["template"]["spec"]["containers"]
    assert worker["command"][1:3] == ["-A", "shop.reports:app"]
    assert "--beat" in worker["command"] and "--schedule=/var/lib/shop/celerybeat-schedule" in worker["command"]
    assert [m["mountPath"] for m in worker["volumeMounts"]] == ["/tmp", "/var/lib/shop", "/var/log/celery"]
    scaled = [d["metadata"]["name"] for found in docs.values() for d in found if d["kind"] == "ScaledObject"]
    assert scaled == ["shop-worker-mail"]  # the embedding pool is never scaled
    for found_docs in docs.values():
        for doc in found_docs:
            if doc["apiVersion"].startswith(("apps/", "policy/")):
                kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[-1], strict=True)


def test_pod_warnings_only_where_kubernetes_is_deployed(tmp_path: Path) -> None:
    """The same file without deploy.kubernetes: nice and logfile are the init system's, no warning."""
    source = ROOT / "tests/data/valid/kubernetes-pod-warnings.yaml"
    path = tmp_path / "t.yaml"
    path.write_text(source.read_text().split("  kubernetes:\n")[0])
    result = run_cli("-f", path, "validate")
    assert result.returncode == 0 and "kubernetes-" not in result.stdout, result.stdout
    assert "[kubernetes-nice]" in run_cli("-f", source, "validate").stdout
