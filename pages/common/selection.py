"""A grid's chosen rows, kept as the ids of the records they show.

Streamlit ticks grid rows by position. When the rows under a tick change (a filter, another
page, an action that takes a row out of the list) the same position names another record, and
the next click would act on something nobody chose. So a screen keeps the chosen ids, puts the
ticks back on those ids' rows in every run, and drops a choice whose record has left the list,
saying so in the portal's words ("Report 4992 is no longer in this list, so no longer
selected.").

A new list of rows gets a new grid (its key carries a number that changes with the ids it
shows), so the browser never keeps positions ticked from other rows and draws the new rows at
once; the grid is told its ticks through session state before it is drawn, which Streamlit
sends to the browser. A tick is read against the ids the grid showed in the run the person saw,
never against the rows of this run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from pages.common import components


@dataclass(frozen=True)
class Settled:
    """What a list of rows does to the chosen ids."""

    kept: list[int]  # chosen ids still listed, in row order
    gone: list[int]  # chosen ids no longer listed, in the order they were chosen
    rows: list[int]  # the grid positions of the kept ids


def settle(chosen: Sequence[int], ids: Sequence[int]) -> Settled:
    """The chosen ids against the rows now listed (by id, whatever their order)."""
    where = {record_id: position for position, record_id in enumerate(ids)}
    kept = sorted((i for i in set(chosen) if i in where), key=where.__getitem__)
    return Settled(kept=kept, gone=[i for i in dict.fromkeys(chosen) if i not in where],
                   rows=[where[i] for i in kept])


def clicked(positions: Sequence[int], shown: Sequence[int]) -> list[int]:
    """The ids a tick names, read against the ids in the order the person saw them."""
    return [shown[i] for i in sorted(positions) if 0 <= i < len(shown)]


def left_note(labels: Sequence[str]) -> str:
    """ "Report 12 is no longer in this list, so no longer selected." for each that left."""
    verb = "is" if len(labels) == 1 else "are"
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"{names} {verb} no longer in this list, so no longer selected."


@dataclass(frozen=True)
class Choice:
    """One grid whose ticks belong to record ids; single-row or multi-row."""

    grid_key: str  # the start of the st.dataframe's key (see key()): its selection by row position
    chosen_key: str  # the chosen ids (a list, in row order)
    label: Callable[[int], str]  # how a note names a record that left ("Report 12")
    multi: bool = False
    typed: bool = False  # labels carry names people typed: the note shows them literally

    @property
    def _shown_key(self) -> str:  # {id: label} in the order the grid last showed them
        return f"{self.grid_key}__shown"

    @property
    def _told_key(self) -> str:  # the ids the grid was last told to tick
        return f"{self.grid_key}__told"

    @property
    def _drawn_key(self) -> str:  # the key of the grid last drawn
        return f"{self.grid_key}__drawn"

    def key(self) -> str:
        """The key of the grid drawn in the last run (each list of ids gets its own)."""
        return st.session_state.get(self._drawn_key, f"{self.grid_key}_0")

    def chosen(self) -> list[int]:
        return list(st.session_state.get(self.chosen_key, []))

    def choose(self, *record_ids: int) -> None:
        """Choose records from elsewhere on the screen (the grid's ticks follow in the next run)."""
        st.session_state[self.chosen_key] = list(record_ids if self.multi else record_ids[:1])

    def clear(self) -> None:
        st.session_state[self.chosen_key] = []

    def shown(self) -> list[int]:
        """The ids the grid showed in the last run, in row order."""
        return list(st.session_state.get(self._shown_key, {}))

    def start_over(self) -> None:
        """The next rows are another page of the same list, not this list changed: nothing
        chosen here counts as having left it, and the grid starts untouched."""
        st.session_state[self._shown_key] = {}
        st.session_state[self._told_key] = []
        st.session_state[self.chosen_key] = []

    def renew(self) -> None:
        """Draw a new grid in the next run, ticked on the same ids.

        For a grid whose rows stay but whose place on the screen changes (a panel above it
        opens or closes): Streamlit's grid then kept showing the tick while taking the person's
        next click on it as no change, so the first click did nothing.
        """
        st.session_state[self._drawn_key] = self._next_key()

    def _next_key(self) -> str:
        """A key no grid of this list has had: the number after the last one drawn."""
        return f"{self.grid_key}_{int(self.key().rsplit('_', 1)[1]) + 1}"

    def resolve(self, ids: Sequence[int], labels: dict[int, str] | None = None) -> list[int]:
        """Before the grid is drawn with rows for `ids`, in order: take a click made since the
        last run, drop chosen ids that left the list with a note, and tick the rest again.
        Returns the chosen ids in row order. Call once per run, also when there are no rows."""
        state = st.session_state
        key = self.key()
        grid = state.get(key)
        known = state.get(self._shown_key, {})
        shown = list(known)
        if grid is not None:
            ticks = clicked(grid["selection"]["rows"], shown)
            if set(ticks) != set(state.get(self._told_key, [])):  # a click since the last run
                state[self.chosen_key] = ticks if self.multi else ticks[-1:]
        if list(ids) != shown:  # other rows: a new grid, so no position carries over
            key = state[self._drawn_key] = self._next_key()
            grid = None
        settled = settle(self.chosen(), ids)
        if settled.gone:
            note = left_note([known.get(i) or self.label(i) for i in settled.gone])
            if self.typed:
                components.literal(note)
            else:
                st.info(note)
        state[self.chosen_key] = settled.kept
        if ids and (grid is None or list(grid["selection"]["rows"]) != settled.rows):
            state[key] = {"selection": {"rows": settled.rows}}
        state[self._shown_key] = {i: (labels or {}).get(i) or self.label(i) for i in ids}
        state[self._told_key] = settled.kept
        return settled.kept

    def grid(self, frame: pd.DataFrame, ids: Sequence[int],
             labels: dict[int, str] | None = None, column_config: dict | None = None) -> list[int]:
        """Resolve the choice and draw the grid ticked on it; returns the chosen ids."""
        chosen = self.resolve(ids, labels)
        st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun",
                     selection_mode="multi-row" if self.multi else "single-row",
                     key=self.key(), column_config=column_config)
        return chosen
