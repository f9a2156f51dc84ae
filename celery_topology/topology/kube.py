"""The model of `deploy.kubernetes` and of a pool's `scale` (replicas that KEDA adds and removes).

Names follow Kubernetes' own grammar so a value the file accepts is one the API server accepts;
the secret is named, never held: the broker URL and passwords stay in the cluster's Secret.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from .base import STRICT
from .grammar import Name, _grammar

_LABEL = r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?"
_DNS_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
DnsLabel = Annotated[
    str, _grammar(_DNS_LABEL, "a-z0-9-", "a Kubernetes name (a-z, 0-9 and '-', at most 63, no '-' at either end)")
]
DnsName = Annotated[
    str,
    _grammar(
        rf"{_DNS_LABEL}(\.{_DNS_LABEL})*", "a-z0-9.-", "a Kubernetes object name (a-z, 0-9, '-' and '.', lower case)"
    ),
]
LabelKey = Annotated[
    str,
    _grammar(
        rf"({_DNS_LABEL}(\.{_DNS_LABEL})*/)?{_LABEL}",
        "A-Za-z0-9_./-",
        "a label key such as disktype or kubernetes.io/arch",
    ),
]
LabelValue = Annotated[
    str, _grammar(f"({_LABEL})?", "A-Za-z0-9_.-", "a label value (at most 63 of A-Z, a-z, 0-9, '-', '_', '.')")
]
Quantity = Annotated[
    str,
    _grammar(
        r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?",
        "0-9.mkMGTPEi",
        "a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi",
    ),
]
Image = Annotated[
    str,
    _grammar(r"[A-Za-z0-9][A-Za-z0-9._/:@-]{0,499}", "A-Za-z0-9._/:@-", "a container image such as registry/app:1.2"),
]


class Strict(BaseModel):
    model_config = STRICT


class Scale(Strict):
    """Replicas of the pool (pods), added and removed by KEDA on the messages waiting in its queues.

    Not Celery's `autoscale`, which sizes the process pool inside one worker.
    """

    min: Annotated[int, Field(ge=0, le=1000)]
    max: Annotated[int, Field(ge=1, le=1000)]
    per_replica: Annotated[int, Field(ge=1, le=1_000_000)]  # messages waiting per replica (KEDA's target)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min > self.max:
            raise ValueError("scale min is above max; swap them")
        return self


class Resources(Strict):
    cpu: Quantity | None = None
    memory: Quantity | None = None


class PodResources(Strict):
    requests: Resources | None = None
    limits: Resources | None = None


class Toleration(Strict):
    key: LabelKey | None = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: LabelValue | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: Annotated[int, Field(ge=0)] | None = None


class Placement(Strict):
    """Where a pod may run and what it asks for."""

    resources: PodResources | None = None
    node_selector: dict[LabelKey, LabelValue] = {}
    tolerations: list[Toleration] = []


class KubePool(Placement):
    replicas: Annotated[int, Field(ge=0, le=1000)] | None = None  # without `scale`; default 1


class Kubernetes(Strict):
    image: Image
    namespace: DnsLabel | None = None
    environment_from: DnsName | None = None  # the Secret with CELERY_BROKER_URL etc.; default <name>-celery
    service_account: DnsName | None = None
    run_as_user: Annotated[int, Field(ge=1, le=2**31 - 1)] = 10001  # never root
    node_selector: dict[LabelKey, LabelValue] = {}  # every pod
    tolerations: list[Toleration] = []  # every pod
    pools: dict[Name, KubePool] = {}
    beat: Placement = Placement()
