"""A grid's ticks belong to record ids: the rules, and a grid run by itself."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from pages.common.selection import clicked, left_note, settle


def test_a_changed_order_keeps_the_same_ids_chosen_at_their_new_rows():
    settled = settle([7, 3], [3, 9, 7])
    assert settled.kept == [3, 7] and settled.rows == [0, 2] and settled.gone == []
    assert settle([7, 3], [7, 1, 3]).rows == [0, 2]


def test_a_choice_that_left_the_list_is_dropped_and_named():
    settled = settle([7, 3], [3, 9])
    assert settled.kept == [3] and settled.rows == [0] and settled.gone == [7]
    assert settle([5], []).gone == [5] and settle([5], []).rows == []
    assert left_note(["Report 7"]) == "Report 7 is no longer in this list, so no longer selected."
    assert left_note(["Report 7", "Report 8", "Report 9"]) == (
        "Report 7, Report 8 and Report 9 are no longer in this list, so no longer selected.")


def test_a_tick_is_read_against_the_rows_the_person_saw():
    assert clicked([2, 0], [10, 11, 12]) == [10, 12]
    assert clicked([5], [10, 11]) == []  # a position past the rows names nobody


def _grid_script():
    import pandas as pd
    import streamlit as st

    from pages.common.selection import Choice

    ids = st.session_state.get("ids", [1, 2, 3])
    choice = Choice(grid_key="g", chosen_key="chosen", multi=True,
                    label=lambda record_id: f"Record {record_id}")
    if st.session_state.pop("choose", None):
        choice.choose(*st.session_state["choose_ids"])
    chosen = choice.grid(pd.DataFrame({"Id": ids}), ids)
    st.write(f"chosen={chosen}")


def _rows(at) -> list[int]:
    """The rows the grid is told to tick."""
    return list(at.session_state[at.dataframe[0].key]["selection"]["rows"])


def _chosen(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("chosen="))


def test_the_grid_re_ticks_ids_when_rows_move_and_drops_those_that_leave():
    at = AppTest.from_function(_grid_script)
    at.run()
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [0, 2]}}  # ticks 1 and 3
    at.run()
    assert _chosen(at) == "chosen=[1, 3]"
    first_grid = at.dataframe[0].key
    at.session_state["ids"] = [3, 4, 2, 1]  # the list changes under the ticks
    at.run()
    assert _chosen(at) == "chosen=[3, 1]"
    assert at.dataframe[0].key != first_grid  # a new grid: no position carries over
    assert _rows(at) == [0, 3]
    assert not at.info
    at.session_state["ids"] = [4, 1]
    at.run()
    assert _chosen(at) == "chosen=[1]"
    assert [i.value for i in at.info] == ["Record 3 is no longer in this list, so no longer selected."]
    assert _rows(at) == [1]
    at.run()
    assert not at.info  # said once


def test_the_screen_chooses_and_clears_from_elsewhere():
    at = AppTest.from_function(_grid_script)
    at.run()
    at.session_state["choose"], at.session_state["choose_ids"] = True, [2]
    at.run()
    assert _chosen(at) == "chosen=[2]"
    assert _rows(at) == [1]
    at.session_state["chosen"] = []
    at.run()
    assert _chosen(at) == "chosen=[]"
    assert _rows(at) == []
