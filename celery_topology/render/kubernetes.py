"""Kubernetes: per pool a Deployment, a PodDisruptionBudget and (with `scale`) a KEDA ScaledObject; beat;
the KEDA TriggerAuthentication; a kustomization.yaml listing every file.

What KEDA reads, and why one trigger per list: KEDA's Redis trigger reads one list, and several
triggers combine by max. kombu keeps a queue in one list per priority step, so a pool's backlog is
the sum over every list of every queue it consumes: one named trigger per list, summed by
`advanced.scalingModifiers.formula`, with `target` = the pool's `per_replica`. On RabbitMQ a queue is
one queue (priorities live inside it): one `rabbitmq` trigger per queue, summed the same way.

The broker URL and passwords come only from the Secret (`envFrom` for the workers,
`secretTargetRef` for KEDA); no value from the broker URL but its database number is written.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..topology.beatlock import is_locking
from ..topology.brokerkeys import redis_database, redis_options, redis_queue_lists
from ..topology.grammar import url_scheme
from ..topology.kube import Kubernetes, Placement, Scale
from ..topology.model import Topology
from . import jinja
from .plan import Plan, Program, RenderedFile, RenderError, build

SCRATCH = "/tmp"  # a writable directory (an emptyDir) in every pod: heartbeats, temporary files
PROBE_DIR = f"{SCRATCH}/celery-topology"
SECRET_KEYS = {  # what KEDA reads from the Secret, per broker
    "redis": {"address": "KEDA_REDIS_ADDRESS", "password": "KEDA_REDIS_PASSWORD"},
    "amqp": {"host": "KEDA_RABBITMQ_HOST"},
}
_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class Trigger:
    name: str  # unique in the ScaledObject, a formula identifier
    type: str  # redis | rabbitmq
    metadata: dict[str, str]


@dataclass(frozen=True)
class Workload:
    """One Deployment: a worker pool or beat."""

    name: str
    component: str  # app.kubernetes.io/component
    program: Program
    pool: str | None
    replicas: int | None  # None: KEDA owns the replica count
    strategy: str
    pod: dict[str, Any]  # resources, nodeSelector, tolerations: as the Kubernetes API spells them
    grace: int  # terminationGracePeriodSeconds
    scale: Scale | None
    triggers: tuple[Trigger, ...]
    probe: str | None  # the `celery-topology` command of the probes; None: no probes (beat)
    window: int | None  # the pool's `watchdog`: its probes' --window
    mounts: tuple[tuple[str, str], ...]  # (volume, path): the emptyDirs where Celery writes
    labels: dict[str, str]
    selector: dict[str, str]

    @property
    def writes(self) -> str:
        """What the emptyDirs hold, for the manifest's comment."""
        held = ["heartbeat, temporary files"]
        held += ["beat's schedule"] if self.program.kind == "beat" or self.program.embeds_beat else []
        return ", ".join(held + (["the worker's pidfile, logfile or statedb"] if self.program.writable else []))

    def probe_argv(self, check: str) -> list[str]:
        assert self.probe is not None and self.pool is not None
        window = [] if self.window is None else ["--window", str(self.window)]
        return [self.probe, "probe", check, "--pool", self.pool, *window]


def owned_patterns(prefix: str) -> tuple[str, ...]:
    """The file names this target writes for `prefix` (what stale-file detection looks at)."""
    return (f"{object_name(prefix)}-*.yaml", "kustomization.yaml")


def object_name(*parts: str) -> str:
    """A Kubernetes object name from our names (`_` is not allowed there)."""
    name = "-".join(parts).replace("_", "-")
    if not _DNS_LABEL.fullmatch(name):
        raise RenderError(
            f"{name!r} is not a valid Kubernetes name (at most 63 of a-z, 0-9, '-'); set a shorter deploy.name"
        )
    return name


def render(
    topology: Topology,
    source: str,
    host: str | None = None,
    template_dirs: Sequence[str | Path] = (),
    namespace: str | None = None,
) -> list[RenderedFile]:
    if host is not None:
        raise RenderError(
            "kubernetes renders every pool; place pools with deploy.kubernetes.pools.<name>.node_selector, not --host"
        )
    kube = topology.deploy.kubernetes if topology.deploy else None
    if kube is None:
        raise RenderError("the topology has no deploy.kubernetes section: add deploy.kubernetes.image (see the README)")
    if namespace is not None and not _DNS_LABEL.fullmatch(namespace):
        raise RenderError(f"--namespace {namespace!r}: a namespace is at most 63 of a-z, 0-9 and '-'")
    plan = build(topology)
    prefix = object_name(plan.prefix)
    workloads = [_workload(topology, kube, plan, program) for program in plan.programs if program.kind != "flower"]
    env = jinja.environment("kubernetes", template_dirs)
    env.filters["k8s"] = k8s
    env.filters["k8s_command"] = k8s_command
    env.filters["k8s_value"] = k8s_value
    common = {
        "header": jinja.header(source),
        "plan": plan,
        "pools": topology.pools,
        "kube": kube,
        "prefix": prefix,
        "namespace": namespace or kube.namespace,
        "secret": kube.environment_from or f"{prefix}-celery",
        "auth": f"{prefix}-keda",
        "labels": {**labels(prefix), "app.kubernetes.io/managed-by": "celery-topology"},
        "scratch": SCRATCH,
        "probe_dir": PROBE_DIR,
        "secret_keys": SECRET_KEYS.get(_broker_kind(topology) or "", {}),
    }
    files = [
        RenderedFile(f"{w.name}.yaml", env.get_template(f"{w.component}.yaml.j2").render(common, w=w))
        for w in workloads
    ]
    if any(w.triggers for w in workloads):
        files.append(RenderedFile(f"{prefix}-keda-auth.yaml", env.get_template("keda-auth.yaml.j2").render(common)))
    files.sort(key=lambda f: f.path)
    listing = env.get_template("kustomization.yaml.j2").render(common, files=[f.path for f in files])
    return [*files, RenderedFile("kustomization.yaml", listing)]


def k8s(value: Any) -> str:
    """A YAML scalar or flow collection that means exactly `value` (JSON is YAML; control characters escaped)."""
    return json.dumps(value, ensure_ascii=False)


def k8s_command(words: Sequence[str]) -> str:
    """A command as a flow list, `$` doubled so kubelet's $(VAR) expansion leaves every word as written."""
    return k8s([word.replace("$", "$$") for word in words])


def k8s_value(text: str) -> str:
    """An env value, `$` doubled as in a command: kubelet expands $(VAR) there too."""
    return k8s(text.replace("$", "$$"))


def _broker_kind(topology: Topology) -> str | None:
    scheme = url_scheme(topology.broker.url)
    if scheme in ("redis", "rediss"):
        return "redis"
    return "amqp" if scheme in ("amqp", "amqps", "pyamqp") else None


def labels(prefix: str, component: str | None = None) -> dict[str, str]:
    """The standard app.kubernetes.io labels; with a component, the Deployment's selector."""
    found = {"app.kubernetes.io/name": "celery", "app.kubernetes.io/instance": prefix}
    if component is not None:
        found["app.kubernetes.io/component"] = component
    return found


def _workload(topology: Topology, kube: Kubernetes, plan: Plan, program: Program) -> Workload:
    prefix = object_name(plan.prefix)
    extra = {"app.kubernetes.io/part-of": prefix, "app.kubernetes.io/managed-by": "celery-topology"}
    if program.kind == "beat":
        locked = topology.beat is not None and is_locking(topology.beat)  # a standby may run beside the leader
        selector = labels(prefix, "beat")
        return Workload(
            name=f"{prefix}-beat",
            component="beat",
            program=program,
            pool=None,
            replicas=max(2, len(topology.beat.hosts or ())) if locked and topology.beat else 1,
            strategy="RollingUpdate" if locked else "Recreate",
            pod=_pod(kube, kube.beat),
            grace=program.stop_timeout,
            scale=None,
            triggers=(),
            probe=None,
            window=None,
            mounts=_mounts(plan, program),
            labels={**selector, **extra},
            selector=selector,
        )
    name = program.name.removeprefix(f"{plan.prefix}-worker-")
    pool = topology.pools[name]
    own = kube.pools.get(name)
    replicas = None if pool.scale is not None else (own.replicas if own and own.replicas is not None else 1)
    if pool.beat:  # beat inside the worker: one pod, ever (validate refuses `scale` and other replica counts)
        replicas = 1
    selector = labels(prefix, object_name("worker", name))
    return Workload(
        name=object_name(prefix, "worker", name),
        component="worker",
        program=program,
        pool=name,
        replicas=replicas,
        strategy="Recreate" if pool.beat else "RollingUpdate",
        pod=_pod(kube, own),
        grace=program.stop_timeout,
        scale=pool.scale,
        triggers=_triggers(topology, name) if pool.scale is not None else (),
        probe=_probe_command(plan),
        window=pool.watchdog,
        mounts=_mounts(plan, program),
        labels={**selector, **extra},
        selector=selector,
    )


def _pod(kube: Kubernetes, own: Placement | None) -> dict[str, Any]:
    """Every pod's node selector and tolerations, then the pool's own (the pool wins on a shared key)."""
    tolerations = [*kube.tolerations, *(own.tolerations if own else [])]
    return {
        "resources": own.resources.model_dump(exclude_none=True) if own and own.resources else None,
        "nodeSelector": {**kube.node_selector, **(own.node_selector if own else {})},
        "tolerations": [
            {
                "tolerationSeconds" if k == "toleration_seconds" else k: v
                for k, v in t.model_dump(exclude_none=True).items()
            }
            for t in tolerations
        ],
    }


def _mounts(plan: Plan, program: Program) -> tuple[tuple[str, str], ...]:
    """The scratch directory; beat's state where beat runs (alone or in a worker); each directory of the worker's
    pidfile, logfile and statedb (validate refuses one that would hide the image's code). A directory inside one
    already mounted needs no volume of its own."""
    wanted = [("scratch", SCRATCH)]
    if program.kind == "beat" or program.embeds_beat:
        wanted.append(("state", plan.state_directory))
    wanted += [(f"files-{i}", path) for i, path in enumerate(program.writable)]
    mounts: list[tuple[str, str]] = []
    for volume, path in wanted:
        if not any(path == held or path.startswith(held.rstrip("/") + "/") for _, held in mounts):
            mounts.append((volume, path))
    return tuple(mounts)


def _probe_command(plan: Plan) -> str:
    """`celery-topology` beside `celery` when that is a path (the same virtualenv), else from PATH."""
    celery = plan.deploy.celery
    return (
        os.path.join(os.path.dirname(celery), "celery-topology")
        if celery.startswith("/") and " " not in celery
        else "celery-topology"
    )


def _triggers(topology: Topology, name: str) -> tuple[Trigger, ...]:
    pool = topology.pools[name]
    assert pool.scale is not None
    target = str(pool.scale.per_replica)
    index = topology.derived("queue_positions", lambda t: {queue: i for i, queue in enumerate(t.queues)})
    kind = _broker_kind(topology)
    if kind == "redis":
        options = redis_options(topology)
        database = {"databaseIndex": str(redis_database(topology.broker.url))}
        if url_scheme(topology.broker.url) == "rediss":
            database["enableTLS"] = "true"
        return tuple(
            Trigger(f"q{index[queue]}_step{step}", "redis", {"listName": key, "listLength": target, **database})
            for queue in pool.queues
            for step, key in redis_queue_lists(queue, options)
        )
    if kind == "amqp":
        return tuple(
            Trigger(
                f"q{index[queue]}",
                "rabbitmq",
                {"protocol": "amqp", "queueName": queue, "mode": "QueueLength", "value": target},
            )
            for queue in pool.queues
        )
    raise RenderError(
        f"pools.{name}.scale: KEDA cannot count messages on a {url_scheme(topology.broker.url)}:// broker"
    )
