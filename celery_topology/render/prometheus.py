"""Prometheus: alert rules from the file's targets (a rules file and a PrometheusRule), and a Grafana dashboard.

Every rule compares a `celery_topology_*` metric (served by `celery-topology serve`, GET /metrics)
with the file's value written literally, selects its queue or pool by a label matcher, and waits
`defaults.alert_for` before firing. Each carries a runbook that names the queue or pool and the
celery-topology command to run. Wait rules exist only on Redis: RabbitMQ cannot show a waiting
message's headers without taking it off the queue (see cluster/queues.py).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..topology import targets
from ..topology.digest import checksum
from ..topology.model import Topology
from . import jinja
from .dashboard import dashboard
from .plan import RenderedFile

UNITS = ((86400, "d"), (3600, "h"), (60, "m"))


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    wait: str  # the rule's `for:`
    severity: str
    subject: tuple[str, str]  # ("queue", name) or ("pool", name), also a static label: one rule per subject
    summary: str
    runbook: str


def owned_patterns(prefix: str) -> tuple[str, ...]:
    """The file names this target writes for `prefix` (what stale-file detection looks at)."""
    return (f"{prefix}.rules.yml", f"{prefix}-prometheusrule.yaml", f"{prefix}-dashboard.json")


def duration(seconds: int) -> str:
    """A Prometheus duration, in the largest unit that divides it: 300 -> 5m."""
    return next((f"{seconds // size}{unit}" for size, unit in UNITS if seconds % size == 0), f"{seconds}s")


def quoted(value: str) -> str:
    """A double-quoted string that PromQL, YAML and JSON all read back as `value` (names hold no control characters)."""
    return json.dumps(value, ensure_ascii=False)


def yaml_text(value: str) -> str:
    """A single-quoted YAML scalar: PromQL's double quotes stay readable."""
    return "'" + value.replace("'", "''") + "'"


def dns_name(prefix: str) -> str:
    """A Kubernetes object name (DNS-1123 subdomain) made of the unit prefix."""
    name = re.sub(r"[^a-z0-9.-]+", "-", prefix.lower()).strip("-.")
    return name[:200] or "celery-topology"


def _queue_alerts(topology: Topology, queue: str, wait: str, cli: str) -> list[Alert]:
    q, pools, subject = quoted(queue), ", ".join(topology.consumers(queue)) or "no pool", ("queue", queue)
    look = (
        f"Run `{cli} status` to see pool(s) {pools} consuming queue {queue} and their workers;"
        " add workers to them or find what slows their tasks."
    )
    found = []
    max_wait, max_depth = targets.max_wait(topology, queue), targets.max_depth(topology, queue)
    if max_wait is not None and topology.broker.is_redis:
        expr = f"celery_topology_queue_oldest_age_seconds{{queue={q}}} > {max_wait}"
        text = f"the oldest task in queue {queue} has waited over {duration(max_wait)}"
        found.append(Alert("CeleryQueueWaitTooLong", expr, wait, "critical", subject, text, look))
    if max_depth is not None:
        expr = f"celery_topology_queue_depth{{queue={q}}} > {max_depth}"
        text = f"over {max_depth} tasks wait in queue {queue}"
        found.append(Alert("CeleryQueueTooDeep", expr, wait, "warning", subject, text, look))
    dead = (
        f"Run `{cli} dead list --queue {shlex.quote(queue)}` to see why they failed,"
        f" then `{cli} dead replay --all --queue {shlex.quote(queue)}` once fixed."
    )
    expr, text = f"celery_topology_dead_letters{{queue={q}}} > 0", f"dead letters wait from queue {queue}"
    found.append(Alert("CeleryDeadLetters", expr, wait, "warning", subject, text, dead))
    return found


def _pool_alert(topology: Topology, pool: str, need: int, wait: str, cli: str) -> Alert:
    unit = f"{topology.unit_prefix}-worker-{pool}"
    text = f"pool {pool} has fewer than {need} worker(s) online (queues {', '.join(topology.pools[pool].queues)})"
    fix = (
        f"Run `{cli} status` to see which of pool {pool}'s workers ({topology.pool_hostname(pool)}) are missing;"
        f" start them (systemd: {unit}.service, supervisor: {unit})."
    )
    expr = f"celery_topology_pool_workers{{pool={quoted(pool)}}} < {need}"
    return Alert("CeleryPoolBelowMinWorkers", expr, wait, "critical", ("pool", pool), text, fix)


def alerts(topology: Topology, source: str) -> list[Alert]:
    """Every rule the file's targets ask for, in file order: queues, pools, then the cluster-wide ones."""
    wait, cli = duration(topology.defaults.alert_for), f"celery-topology --file {shlex.quote(source)}"
    found = [alert for queue in topology.queues for alert in _queue_alerts(topology, queue, wait, cli)]
    found += [
        _pool_alert(topology, pool, need, wait, cli)
        for pool in topology.pools
        if (need := targets.min_workers(topology, pool))
    ]
    down = f"Run `{cli} doctor` to see why the broker does not answer."
    text = "the Celery broker does not answer"
    found.append(Alert("CeleryBrokerDown", "celery_topology_broker_up == 0", wait, "critical", ("", ""), text, down))
    drift = (
        f"The exporter serves another topology than these rules were rendered from:"
        f" restart `{cli} serve` or run `{cli} render prometheus -o DIR` again."
    )
    expr = f"celery_topology_info{{checksum!={quoted(checksum(topology))}}} == 1"
    text = "the live topology is not the one these rules came from"
    found.append(Alert("CeleryTopologyChanged", expr, wait, "warning", ("", ""), text, drift))
    return found


def render(
    topology: Topology, source: str, host: str | None = None, template_dirs: Sequence[str | Path] = ()
) -> list[RenderedFile]:
    """The same files for every `host`: rules and dashboard cover the whole cluster."""
    env = jinja.environment("prometheus", template_dirs)
    env.filters["quoted"] = quoted
    env.filters["yaml"] = yaml_text
    prefix = topology.unit_prefix
    context = {
        "header": jinja.header(source),
        "source": source,
        "prefix": prefix,
        "name": dns_name(prefix),
        "alerts": alerts(topology, source),
        "redis": topology.broker.is_redis,
        "checksum": checksum(topology),
    }
    board = dashboard(topology)
    files = [
        RenderedFile(f"{prefix}.rules.yml", env.get_template("rules.yml.j2").render(context)),
        RenderedFile(f"{prefix}-prometheusrule.yaml", env.get_template("prometheusrule.yaml.j2").render(context)),
        RenderedFile(f"{prefix}-dashboard.json", env.get_template("dashboard.json.j2").render(context, **board)),
    ]
    return sorted(files, key=lambda f: f.path)
