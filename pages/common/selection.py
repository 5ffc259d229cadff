"""A grid's chosen row, kept as the id of the record it shows.

Streamlit ticks grid rows by position. When the rows under a tick change (a filter, an action
that takes a row out of the list) the same position names another record, and the next click
would act on something nobody chose. So a screen keeps the chosen id, puts the tick back on
that id's row in every run, and drops a choice whose record has left the list, saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class SingleChoice:
    """Session-state keys of one grid where at most one row is chosen."""

    grid_key: str  # the st.dataframe's key: its selection by row position
    chosen_key: str  # the chosen record's id (None: nothing chosen)
    shown_key: str  # the ids in the order the grid last showed them: what a click refers to
    ticked_key: str  # the id the grid was last told to tick

    def choose(self, record_id: int | None) -> None:
        """Choose a record from elsewhere on the screen (the grid's tick follows in the next run)."""
        st.session_state[self.chosen_key] = record_id

    def resolve(self, ids: list[int]) -> tuple[int | None, bool]:
        """Before the grid is drawn with rows for `ids`, in order: the chosen id, and whether a
        chosen record has just left the list (and so is no longer chosen)."""
        state = st.session_state
        grid = state.get(self.grid_key)
        if grid is not None:
            shown = state.get(self.shown_key, [])
            clicked = [shown[i] for i in _rows(grid) if i < len(shown)]
            clicked_id = clicked[0] if clicked else None
            if clicked_id != state.get(self.ticked_key):  # a click on the grid since the last run
                state[self.chosen_key] = clicked_id
        chosen = state.get(self.chosen_key)
        left = chosen is not None and chosen not in ids
        if left:
            chosen = state[self.chosen_key] = None
        wanted = [ids.index(chosen)] if chosen is not None else []
        if grid is None or _rows(grid) != wanted:
            state[self.grid_key] = {"selection": {"rows": wanted}}
        state[self.shown_key], state[self.ticked_key] = list(ids), chosen
        return chosen, left


def _rows(grid) -> list[int]:
    return list(grid["selection"]["rows"])
