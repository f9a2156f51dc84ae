"""What a machine runs, independent of the init system: the processes, their command lines and stop timeouts.

A target module (systemd, supervisor) turns a `Plan` into files; nothing here knows a file format.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..topology.beatlock import beat_hosts, failover, is_locking, max_loop_interval, scheduler_path
from ..topology.limits import longest_task, watchdog_seconds
from ..topology.model import Deploy, Pool, Topology
from ..topology.options import written_directory

STOP_MARGIN = 30  # seconds between a task's hard time limit and the init system's SIGKILL


class RenderError(Exception):
    """The topology cannot be rendered as asked (no deploy section, unknown host, unsafe value)."""


class HostError(RenderError):
    """`--host` names a machine the topology does not (a usage error, not a broken file)."""


@dataclass(frozen=True)
class RenderedFile:
    """One generated file: its path relative to the output directory and its full text."""

    path: str
    text: str


@dataclass(frozen=True)
class Program:
    """One long-running process: a worker pool, beat or Flower."""

    name: str  # unit/program name without suffix, e.g. myapp-worker-agent
    kind: str  # worker | beat | flower
    description: str
    argv: tuple[str, ...]  # the command line exactly as the process must receive it
    stop_timeout: int  # seconds a warm shutdown may take before the init system kills
    watchdog: int | None = None  # seconds without a heartbeat before the init system restarts it (opt-in)
    environment: tuple[tuple[str, str], ...] = ()  # the pool's own (non-secret) variables
    nice: int | None = None
    writable: tuple[str, ...] = ()  # directories it writes besides beat's state (pidfile, logfile, statedb)
    embeds_beat: bool = False  # a worker running beat too (-B): it keeps beat's schedule file

    @property
    def niced_argv(self) -> tuple[str, ...]:
        """The command line under `nice -n N` where the init system cannot set niceness itself (supervisor)."""
        return ("nice", "-n", str(self.nice), *self.argv) if self.nice else self.argv


@dataclass(frozen=True)
class Plan:
    """Everything one machine (or, without a host, the whole topology) runs."""

    prefix: str
    deploy: Deploy
    topology_file: str  # CELERY_TOPOLOGY_FILE for every process
    programs: tuple[Program, ...]
    state_directory: str  # beat's schedule file lives here (the service user must be able to write it)
    environment: str | None = None  # CELERY_TOPOLOGY_ENV for every process, when rendered with --env


def build(topology: Topology, host: str | None = None) -> Plan:
    """The plan for `host` (None: everything)."""
    deploy = topology.deploy
    if deploy is None:
        raise RenderError("the topology has no deploy section: add deploy.working_directory and deploy.celery")
    _check_host(topology, host)
    prefix = topology.unit_prefix
    programs = [
        _worker(topology, deploy, name, pool)
        for name, pool in topology.pools.items()
        if host is None or not pool.hosts or host in pool.hosts
    ]
    schedule = f"{state_directory(topology)}/celerybeat-schedule"
    if topology.beat is None or topology.beat.scheduler == "celery":
        # a worker that embeds beat keeps its schedule file where beat would
        programs = [_with_schedule(p, schedule) if p.embeds_beat else p for p in programs]
    embedded = any(pool.beat for pool in topology.pools.values())
    named_beats: list[str | None] = [*beat_hosts(topology)] or [singleton_host(topology)]
    if topology.beat is not None and not embedded and (host is None or host in named_beats):
        programs.append(_beat(topology, deploy, schedule))
    if deploy.flower.enabled and (host is None or host == singleton_host(topology)):
        programs.append(_flower(topology, deploy))
    topology_file = deploy.topology_file or f"{deploy.working_directory}/topology.yaml"
    return Plan(prefix, deploy, topology_file, tuple(programs), state_directory(topology), topology.environment)


def state_directory(topology: Topology) -> str:
    """Where beat keeps its schedule: deploy.state_directory, else /var/lib/<prefix> (never the working directory,
    which the service user usually cannot write)."""
    deploy = topology.deploy
    return deploy.state_directory if deploy and deploy.state_directory else f"/var/lib/{topology.unit_prefix}"


def hosts(topology: Topology) -> list[str]:
    """Every machine the file names, in file order."""
    named = [h for pool in topology.pools.values() for h in pool.hosts or ()]
    return list(dict.fromkeys(named))


def singleton_host(topology: Topology) -> str | None:
    """The one machine that runs Flower (and beat, unless beat.hosts names several): beat's first host, else the
    first host named; None if none is named."""
    named = beat_hosts(topology) or hosts(topology)
    return named[0] if named else None


def _check_host(topology: Topology, host: str | None) -> None:
    if host is None:
        return
    named = hosts(topology)
    if not named and singleton_host(topology) is None:
        # Every pool would run on `host`, but beat and Flower on no machine at all: refuse, not drop them.
        raise HostError("the topology names no hosts (pools.*.hosts / beat.host); render without --host")
    if named and host not in named:
        raise HostError(f"host {host!r} is not named by any pool's hosts; known hosts: {', '.join(named)}")


def stop_timeout(topology: Topology, pool: Pool) -> int:
    """Above the longest hard time limit a task of this pool can have, so a warm shutdown is never cut short;
    the pool's own `stop_timeout` if it gives one."""
    if pool.stop_timeout is not None:
        return pool.stop_timeout
    return longest_task(topology, pool) + STOP_MARGIN


def celery_command(deploy: Deploy) -> list[str]:
    """deploy.celery as words: a path, or a command such as `uv run celery`."""
    return deploy.celery.split(" ")


def worker_argv(topology: Topology, deploy: Deploy, name: str) -> tuple[str, ...]:
    pool = topology.pools[name]
    argv = [*celery_command(deploy), "-A", pool.app or topology.app, "worker", f"--loglevel={pool.loglevel.upper()}"]
    argv += [f"--queues={','.join(pool.queues)}", f"--hostname={topology.pool_hostname(name)}", f"--pool={pool.pool}"]
    if pool.autoscale is not None:
        argv.append(f"--autoscale={pool.autoscale.max},{pool.autoscale.min}")
    elif pool.concurrency is not None:
        argv.append(f"--concurrency={pool.concurrency}")
    options = (
        ("prefetch-multiplier", pool.prefetch_multiplier),
        ("max-tasks-per-child", pool.max_tasks_per_child),
        ("max-memory-per-child", pool.max_memory_per_child),
        ("time-limit", pool.time_limit),
        ("soft-time-limit", pool.soft_time_limit),
    )
    argv += [f"--{option}={value}" for option, value in options if value is not None]
    flags = worker_flags(pool)
    if pool.beat and topology.beat is not None and topology.beat.scheduler != "celery":
        flags.insert(flags.index("--beat") + 1, f"--scheduler={scheduler_path(topology.beat)}")
    return tuple(argv + flags)


def worker_flags(pool: Pool) -> list[str]:
    """The pool's worker flags beyond sizing and limits: optimization, events, gossip/mingle/heartbeat, files, beat."""
    flags = [f"--optimization={pool.optimization}"] if pool.optimization else []
    switches = (
        ("--events", pool.events),
        ("--without-gossip", pool.without_gossip),
        ("--without-mingle", pool.without_mingle),
        ("--without-heartbeat", pool.without_heartbeat),
        ("--beat", pool.beat),
    )
    flags += [flag for flag, on in switches if on]
    flags += [f"--{option}={path}" for option, path in pool.files.items()]
    if pool.disable_rate_limits:  # no flag of its own: Celery reads `namespace.setting=value` after the options
        flags.append("worker.disable_rate_limits=true")
    return flags


def _with_schedule(program: Program, schedule: str) -> Program:
    argv = list(program.argv)
    argv.insert(argv.index("--beat") + 1, f"--schedule={schedule}")
    return replace(program, argv=tuple(argv))


def _worker(topology: Topology, deploy: Deploy, name: str, pool: Pool) -> Program:
    return Program(
        name=f"{topology.unit_prefix}-worker-{name}",
        kind="worker",
        description=f"Celery worker pool {name} ({', '.join(pool.queues)})",
        argv=worker_argv(topology, deploy, name),
        stop_timeout=stop_timeout(topology, pool),
        watchdog=watchdog_seconds(topology, pool),
        environment=tuple(pool.environment.items()),
        nice=pool.nice,
        writable=tuple(dict.fromkeys(written_directory(f) for f in pool.files.values())),
        embeds_beat=pool.beat,
    )


def _beat(topology: Topology, deploy: Deploy, schedule: str) -> Program:
    """beat with its scheduler and loop interval on the command line (redbeat's lock settings: `configure(app)`)."""
    assert topology.beat is not None
    argv = [*celery_command(deploy), "-A", topology.app, "beat", "--loglevel=INFO"]
    description = "Celery beat (the one scheduler)"
    if topology.beat.scheduler != "celery":
        argv.append(f"--scheduler={scheduler_path(topology.beat)}")
    else:
        argv.append(f"--schedule={schedule}")
    loop = max_loop_interval(topology.beat)
    if loop is not None:
        argv.append(f"--max-interval={loop}")
    if is_locking(topology.beat):
        description = (
            f"Celery beat (redbeat: the lock holder sends, the others stand by; failover {failover(topology.beat)}s)"
        )
    return Program(f"{topology.unit_prefix}-beat", "beat", description, tuple(argv), STOP_MARGIN)


def _flower(topology: Topology, deploy: Deploy) -> Program:
    flower = deploy.flower
    argv = (
        *celery_command(deploy),
        "-A",
        topology.app,
        "flower",
        f"--address={flower.address}",
        f"--port={flower.port}",
    )
    return Program(f"{topology.unit_prefix}-flower", "flower", "Celery Flower monitor", argv, STOP_MARGIN)
