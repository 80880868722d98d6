"""One page of a list read one row past its limit: what every paged list hands out as ``next``."""

from __future__ import annotations

from operator import attrgetter, itemgetter
from types import SimpleNamespace

from tenure.services.views import one_page

ID = itemgetter("id")


def test_a_row_past_the_limit_names_the_next_page_by_the_last_row_kept() -> None:
    rows = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    page, after = one_page(rows, 2, ID)
    assert page == [{"id": "a"}, {"id": "b"}]
    assert after == "b"


def test_the_last_page_has_no_next() -> None:
    assert one_page([{"id": "a"}, {"id": "b"}], 2, ID) == ([{"id": "a"}, {"id": "b"}], None)
    assert one_page([{"id": "a"}], 2, ID) == ([{"id": "a"}], None)
    assert one_page([], 2, ID) == ([], None)


def test_a_numeric_key_is_handed_out_as_text() -> None:
    page, after = one_page([{"seq": 7}, {"seq": 6}], 1, itemgetter("seq"))
    assert page == [{"seq": 7}]
    assert after == "7"


def test_records_page_by_an_attribute() -> None:
    rooms = [SimpleNamespace(id="r1"), SimpleNamespace(id="r2")]
    page, after = one_page(rooms, 1, attrgetter("id"))
    assert page == rooms[:1]
    assert after == "r1"
