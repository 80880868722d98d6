"""The bench's share of the ceiling: each Tenure run is compared with the ceiling read around it."""

from __future__ import annotations

from bench.report import Row
from bench.targets import targets

W2, W1 = "tenure/postgresql w2", "tenure/postgresql w1"


def _rate(key: str, server: str, run: str, rps: float, errors: int = 0, near: str = "") -> Row:
    stats = {"requests": 1000, "rps": rps, "elapsed_s": 1000 / rps, "errors": errors}
    row = Row(key, key, server, run, "-", stats)
    if near:
        row.extra["near"] = near
    return row


def _ceiling(rps: float, near: str = "", errors: int = 0) -> list[Row]:
    return [
        _rate(key, "ceiling", "ceiling", rps, errors, near)
        for key in ("ceiling.get", "ceiling.post")
    ]


def _tenure(run: str, rps: float) -> list[Row]:
    return [
        _rate(key, "tenure", run, rps) for key in ("create", "lookup.userName", "lookup.externalId")
    ]


def _shares(rows: list[Row]) -> dict[tuple[str, str], tuple[str, str]]:
    _, verdicts = targets(rows)
    return {
        (v.run, v.target.split(" >=")[0]): (v.status, v.value)
        for v in verdicts
        if "ceiling" in v.target
    }


def test_each_run_is_compared_with_the_higher_of_the_readings_around_it() -> None:
    rows = [
        *_ceiling(10_000, near=W2),
        *_tenure(W2, 3_000),
        *_ceiling(12_000, near=W2),
        *_ceiling(20_000, near=W1),
        *_tenure(W1, 3_000),
        *_ceiling(18_000, near=W1),
    ]
    shares = _shares(rows)
    assert shares[(W2, "creates")] == ("PASS", "25.0%")  # 3k of 12k, not of 20k
    assert shares[(W1, "creates")] == ("MISS", "15.0%")  # 3k of 20k, not of 10k
    assert shares[(W2, "look-ups")] == ("PASS", "25.0%")


def test_a_reading_with_errors_does_not_count() -> None:
    rows = [
        *_ceiling(10_000, near=W1),
        *_ceiling(40_000, near=W1, errors=3),
        *_tenure(W1, 2_000),
    ]
    assert _shares(rows)[(W1, "creates")] == ("MISS", "20.0%")


def test_readings_near_no_run_all_count_when_a_run_has_none_of_its_own() -> None:
    rows = [*_ceiling(8_000), *_tenure(W1, 2_000), *_ceiling(16_000)]
    assert _shares(rows)[(W1, "creates")] == ("MISS", "12.5%")


def test_without_a_usable_reading_the_share_is_not_judged() -> None:
    rows = [*_ceiling(10_000, near=W1, errors=1), *_tenure(W1, 3_000)]
    status, value = _shares(rows)[(W1, "creates")]
    assert status == "n/a"
    assert "errors" in value
