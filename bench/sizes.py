"""How big each workload is: the defaults, the --quick sizes, and the bounds of every loop."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Sizes:
    """Every size the run uses; each is also a command-line flag (see ``python -m bench -h``)."""

    users: int = 10_000  # 1: users created one POST at a time
    lookup_users: int = 20_000  # 2: users in the directory during look-ups (spec: 100k)
    ref_lookup_users: int = 20_000  # 2: the same for scim2-server (spec: 100k)
    lookups: int = 2_000  # 2: look-ups of each kind
    group_members: int = 20_000  # 3, 4: the large group (Tenure)
    ref_group_members: int = 2_000  # 3, 4: the large group (scim2-server)
    small_group: int = 100  # 4: the small group
    single_ops: int = 60  # 4: add+remove rounds per form and group (each row: its p50 of 60)
    groups: int = 200  # 5: groups listed
    group_size: int = 200  # 5: members of each listed group (spec: 1k)
    list_repeats: int = 10  # 5: GET /Groups repeats
    sync_users: int = 5_000  # 6
    sync_groups: int = 50  # 6
    history: int = 10_000  # 7: history items on the restored membership
    restore_runs: int = 5  # 7: restores timed (each on its own membership)
    drift_users: int = 20_000  # 8: users in the directory for the drift report (spec: 100k)
    drift_repeats: int = 5  # 8
    ceiling_requests: int = 30_000  # per ceiling loop (wrk)
    concurrency: int = 4  # connections of wrk, threads of httpx
    budget_s: float = 180.0  # deadline of each request loop

    @classmethod
    def quick(cls) -> Sizes:
        """Tiny sizes: the whole run in under a minute, for developing the bench itself."""
        return cls(
            users=300,
            lookup_users=1_000,
            ref_lookup_users=1_000,
            lookups=200,
            group_members=500,
            ref_group_members=500,
            small_group=100,
            single_ops=5,
            groups=10,
            group_size=50,
            list_repeats=5,
            sync_users=200,
            sync_groups=5,
            history=1_000,
            restore_runs=3,
            drift_users=1_000,
            drift_repeats=3,
            ceiling_requests=5_000,
            budget_s=30.0,
        )

    @classmethod
    def spec(cls) -> Sizes:
        """The sizes the targets are written for; a long run (populating 100k users)."""
        return cls(
            lookup_users=100_000,
            ref_lookup_users=100_000,
            group_size=1_000,
            drift_users=100_000,
            budget_s=600.0,
        )

    def below_spec(self) -> list[str]:
        """The sizes smaller than the spec's, to say so next to the results."""
        spec = Sizes.spec()
        return [
            f"{n}={getattr(self, n):,} (spec {getattr(spec, n):,})"
            for n in self.names()
            if n not in ("budget_s", "concurrency") and getattr(self, n) < getattr(spec, n)
        ]

    def override(self, values: dict[str, Any]) -> Sizes:
        given = {k: v for k, v in values.items() if v is not None and k in self.names()}
        return replace(self, **given)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
