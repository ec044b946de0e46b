"""Searching households by pinyin through the real library (issue 10 item 7)."""

import pytest

import linli
from factories import member, new_household


def test_search_by_pinyin_initials_full_and_mixed_best_first(store):
    exact = store.create_household(new_household("u-9-1", "901", [member("张秀英")]))
    prefix = store.create_household(new_household("u-2-1", "201", [member("张秀英华")]))
    homophone = store.create_household(new_household("u-1-2", "102", [member("章伟")]))
    surname = store.create_household(new_household("u-1-1", "101", [member("单田芳")]))

    def found(query):
        return [h.id for h in store.search_households(query, 50)]

    # The whole name spelled first, then names starting with the query, whatever the address.
    for query in ["zxy", "ZXY", "zhangxiuying", "zhang xiu ying", "zhang xy", "张秀英"]:
        assert found(query) == [exact, prefix], query
    # Homophones: zhang is 张 and 章.
    assert set(found("zhang")) == {exact, prefix, homophone}
    # A polyphonic surname reads as a surname: 单 is shan, not dan.
    assert found("shan") == [surname]
    assert found("stf") == [surname]
    assert found("dan") == []
    # FTS syntax is text, never an error; an empty query is.
    assert found('NEAR("zhang"') == []
    with pytest.raises(linli.LinliError.InvalidInput):
        store.search_households("z" * 10_000, 50)
