"""Rules for `deploy.kubernetes` and pools' `scale`, and for what a pod cannot honour; registered in `checks.RULES`."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from .document import Document
from .errors import Problem
from .grammar import url_scheme
from .model import Topology
from .options import written_directory

KEDA_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")  # brokers a KEDA trigger can read


def kubernetes_pools(t: Topology, doc: Document) -> Iterator[Problem]:
    """`deploy.kubernetes.pools` names only declared pools; `scale` needs a broker KEDA can count."""
    kubernetes = t.deploy.kubernetes if t.deploy else None
    for name in kubernetes.pools if kubernetes else ():
        if name not in t.pools:
            yield doc.problem(
                ("deploy", "kubernetes", "pools", name),
                f"no pool is named {name!r}; use one of {', '.join(t.pools)}",
                "kubernetes-pool-unknown",
                key=True,
            )
    scheme = url_scheme(t.broker.url)
    for name, pool in t.pools.items():
        if pool.scale is not None and scheme not in KEDA_SCHEMES:
            yield doc.problem(
                ("pools", name, "scale"),
                f"KEDA cannot count messages on a {scheme}:// broker; scale needs Redis or RabbitMQ (or remove scale)",
                "scale-broker",
            )


def embedded_beat_replicas(t: Topology, doc: Document) -> Iterator[Problem]:
    """A pool with `beat: true` runs as one pod: KEDA's `scale` or other replica counts would start more beats."""
    kubernetes = t.deploy.kubernetes if t.deploy else None
    for name, pool in t.pools.items():
        if not pool.beat:
            continue
        if pool.scale is not None:
            yield doc.problem(
                ("pools", name, "scale"),
                "beat runs inside this pool's worker (beat: true): every replica KEDA adds would send every periodic"
                " task again; remove scale, or run beat on its own (remove the pool's beat: true)",
                "scale-embedded-beat",
            )
        own = kubernetes.pools.get(name) if kubernetes else None
        if own is not None and own.replicas not in (None, 1):
            yield doc.problem(
                ("deploy", "kubernetes", "pools", name, "replicas"),
                f"beat runs inside this pool's worker (beat: true): {own.replicas} replicas would send every periodic"
                " task that many times; remove replicas (one pod), or run beat on its own",
                "scale-embedded-beat",
            )


# An emptyDir mounted at one of these (or inside) hides what the image has there.
SYSTEM_DIRECTORIES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys", "/usr")


def kubernetes_pod_fit(t: Topology, doc: Document) -> Iterator[Problem]:
    """With deploy.kubernetes, what a pod cannot honour: a pool without concurrency (warning: Celery would count
    the node's CPUs), `nice` (warning), a logfile (warning), and a file whose directory, mounted as a writable emptyDir
    over the read-only root, would hide the image's code (error)."""
    if t.deploy is None or t.deploy.kubernetes is None:
        return
    for name, pool in t.pools.items():
        if pool.pool != "solo" and pool.concurrency is None and pool.autoscale is None:
            yield doc.problem(
                ("pools", name),
                "no concurrency: in a pod, Celery would start one child per CPU of the node, not of the pod;"
                f" give pools.{name}.concurrency (such as the pod's CPU request) or autoscale",
                "kubernetes-concurrency",
                severity="warning",
                key=True,
            )
        if pool.nice:
            yield doc.problem(
                ("pools", name, "nice"),
                "not applied on Kubernetes (the pod runs celery without nice): the worker is alone in its pod's cgroup,"
                " where niceness would yield no CPU to other pods; weigh pools by"
                f" deploy.kubernetes.pools.{name}.resources.requests.cpu instead",
                "kubernetes-nice",
                severity="warning",
            )
        if pool.logfile is not None:
            yield doc.problem(
                ("pools", name, "logfile"),
                "on Kubernetes the worker would log into an emptyDir: `kubectl logs` shows nothing and the file goes"
                " with the pod; remove logfile to log to standard output",
                "kubernetes-logfile",
                severity="warning",
            )
        for key, path in pool.files.items():
            yield from _hidden(t, doc, ("pools", name, key), written_directory(path))
    if t.beat is not None and t.deploy.state_directory is not None:
        yield from _hidden(t, doc, ("deploy", "state_directory"), t.deploy.state_directory)


def _hidden(t: Topology, doc: Document, path: tuple[str, ...], directory: str) -> Iterator[Problem]:
    assert t.deploy is not None
    deploy = t.deploy
    code = {"deploy.working_directory": deploy.working_directory}
    if deploy.topology_file:
        code["deploy.topology_file"] = posixpath.dirname(deploy.topology_file)
    if deploy.celery.startswith("/"):
        code["deploy.celery"] = posixpath.dirname(deploy.celery.split(" ")[0])
    below = [key for key, held in code.items() if _within(held, directory)]
    system = [d for d in SYSTEM_DIRECTORIES if _within(directory, d)]
    if directory == "/" or below or system:
        what = f"the application's code ({below[0]})" if below else f"the image's {system[0] if system else '/'}"
        yield doc.problem(
            path,
            f"on Kubernetes the root filesystem is read-only, so an emptyDir is mounted at {directory} for this,"
            f" which would hide {what}; write it in a directory of its own, such as /run/celery or /var/lib/celery",
            "kubernetes-hidden",
        )


def _within(path: str, directory: str) -> bool:
    return directory == "/" or path == directory or path.startswith(directory.rstrip("/") + "/")
