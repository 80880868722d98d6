"""One page of a list read one row past its limit: what every paged list hands out as ``next``."""

from __future__ import annotations

from tenure.services.views import one_page


def test_a_row_past_the_limit_names_the_next_page_by_the_last_row_kept() -> None:
    rows = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    page, after = one_page(rows, 2)
    assert page == [{"id": "a"}, {"id": "b"}]
    assert after == "b"


def test_the_last_page_has_no_next() -> None:
    assert one_page([{"id": "a"}, {"id": "b"}], 2) == ([{"id": "a"}, {"id": "b"}], None)
    assert one_page([{"id": "a"}], 2) == ([{"id": "a"}], None)
    assert one_page([], 2) == ([], None)


def test_a_numeric_key_is_handed_out_as_text() -> None:
    page, after = one_page([{"seq": 7}, {"seq": 6}], 1, key="seq")
    assert page == [{"seq": 7}]
    assert after == "7"
