"""When a use case is run again, and when the client is told to try again itself."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from tenure.adapters.db.uow import _Transaction, retry_races
from tenure.domain.errors import Conflict, Unavailable


def _lost() -> OperationalError:
    error = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    error.connection_invalidated = True
    return error


def _race() -> IntegrityError:
    return IntegrityError("INSERT", {}, Exception('violates "uq_memberships_active"'))


class Flaky:
    """Fails with the given errors, in order, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_a_connection_lost_before_commit_is_retried_at_once() -> None:
    flaky = Flaky(_lost(), _lost())
    assert retry_races(flaky) == "done"
    assert flaky.calls == 3


def test_a_database_that_stays_away_answers_unavailable() -> None:
    with pytest.raises(Unavailable) as raised:
        retry_races(Flaky(*[_lost() for _ in range(6)]))
    assert raised.value.status == 503


def test_races_are_retried_and_other_errors_are_not() -> None:
    assert retry_races(Flaky(_race())) == "done"
    with pytest.raises(Conflict):
        retry_races(Flaky(*[_race() for _ in range(6)]))
    other = IntegrityError("INSERT", {}, Exception("violates not-null constraint"))
    flaky = Flaky(other)
    with pytest.raises(IntegrityError):
        retry_races(flaky)
    assert flaky.calls == 1


class _LostAtCommit:
    is_active = True

    def commit(self) -> Any:
        raise _lost()


def test_a_connection_lost_during_commit_is_not_retried() -> None:
    """The change may have been saved: the client is told to read it back, not to resend."""
    tx = _Transaction.__new__(_Transaction)
    tx._tx = _LostAtCommit()  # type: ignore[assignment]
    calls = []

    def use_case() -> None:
        calls.append(1)
        tx.commit()

    with pytest.raises(Unavailable) as raised:
        retry_races(use_case)
    assert calls == [1]
    assert "read it back" in raised.value.detail
