"""What every use case receives besides its command: the unit of work and its caller."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from tenure.domain.audit import Actor

if TYPE_CHECKING:
    from tenure.adapters.db.uow import SqlUnitOfWork


class UnitOfWorkFactory(Protocol):
    """Builds a fresh unit of work for one organisation (one per attempt of a use case)."""

    def __call__(self, *, write: bool = True) -> SqlUnitOfWork: ...


__all__ = ["Actor", "UnitOfWorkFactory"]
