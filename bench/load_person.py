"""One client user working the Reports screen: search, page, tick results, download them.

Each step is one interaction, timed from the click to the end of the run it causes (or, for
the download itself, to the last byte). Between steps the person pauses a moment, as people
do, so N sessions means N people clicking, not N scripts hammering. Anything broken (an
exception or error box, a lost Reports screen, a disconnect, a stall) counts as an error and
the person opens a new tab.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bench.load_browser import BrowserTab, TabError, choice_value, selected_rows, text_value
from bench.load_data import DEEPEST_PAGE, NAMES
from pages.common.session_cookie import COOKIE_NAME

SHOWING = re.compile(r"showing ([\d,]+)–([\d,]+)")
MERGED_SHARE = 0.2  # one download in five as a merged PDF, the rest as a ZIP
THINK = (1.0, 3.0)  # seconds between clicks
TIMEOUT = 30.0  # seconds a person waits for a click's answer before giving up on the tab
# The once-a-minute session check every open tab runs by itself: server work, not a click.
IDLE_CHECK = "idle check (timed, not a click)"


@dataclass
class Tally:
    """What all the people of one round did."""

    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    downloaded_bytes: int = 0
    samples: list[str] = field(default_factory=list)

    def error(self, problem: TabError) -> None:
        self.errors[problem.kind] += 1
        if len(self.samples) < 5:
            self.samples.append(str(problem))


class _RoundOver(Exception):
    """The round's time is up: the person stops before the next click."""


class Person:
    def __init__(self, base_url: str, token: str, *, seed: int, tally: Tally, timeout: float,
                 think: tuple[float, float]) -> None:
        self.base_url, self.token, self.tally = base_url, token, tally
        self.timeout, self.think_range = timeout, think
        self.rng = random.Random(seed)
        self.tab: BrowserTab | None = None
        self.deadline = 0.0

    async def spend(self, *, arrive_within: float, deadline: float) -> None:
        """Open the Reports screen at a random moment early in the round, then work on."""
        self.deadline = deadline
        await asyncio.sleep(self.rng.uniform(0, arrive_within))
        try:
            await self._work()
        except _RoundOver:
            pass

    async def _open(self) -> None:
        self.tab = BrowserTab(self.base_url, cookies={COOKIE_NAME: self.token}, timeout=self.timeout)
        self._record("open", await self.tab.open("reports"))
        self._check_screen()

    async def _work(self) -> None:
        while True:
            try:
                if self.tab is None:
                    await self._open()
                await self._one_errand()
            except TabError as problem:
                self.tally.error(problem)
                if self.tab is not None:
                    await self.tab.close()
                self.tab = None
                await self._think()

    async def leave(self) -> None:
        if self.tab is not None:
            await self.tab.close()

    async def _one_errand(self) -> None:
        """Search, go a few pages deep, tick a few results, download them."""
        tab = self.tab
        await self._think()
        name = tab.needed("f_name")
        await self._step("search", tab.rerun(values={name.message.id: text_value(
            name, self.rng.choice(NAMES))}, triggers=(tab.needed("FormSubmitter:report_filters"),)))
        for _ in range(self.rng.randint(0, DEEPEST_PAGE)):
            following = tab.widget("reports_next")
            if following is None or following.message.disabled:
                break
            await self._think()
            await self._step("next page", tab.rerun(triggers=(following,),
                                                    fragment_id=following.fragment_id))
        if self.rng.random() < 0.25 and (previous := tab.widget("reports_previous")) \
                and not previous.message.disabled:
            await self._think()
            await self._step("previous page", tab.rerun(triggers=(previous,),
                                                        fragment_id=previous.fragment_id))
        rows = self._rows_shown()
        if not rows:
            return
        ticked: list[int] = []
        for _ in range(self.rng.randint(1, 3)):
            ticked = sorted({*ticked, self.rng.randrange(rows)})
            grid = tab.needed("reports_grid_")
            await self._think()
            await self._step("tick a row", tab.rerun(values={grid.message.id: selected_rows(
                grid, ticked)}, fragment_id=grid.fragment_id))
        merged = self.rng.random() < MERGED_SHARE
        if merged:
            choice = tab.needed("bundle_format")
            await self._think()
            await self._step("choose format", tab.rerun(values={choice.message.id: choice_value(
                choice, 1)}, fragment_id=choice.fragment_id))
        prepare = tab.needed("bundle_link")
        await self._think()
        await self._step("make download link", tab.rerun(triggers=(prepare,),
                                                        fragment_id=prepare.fragment_id))
        save = tab.needed("bundle_save")
        await self._think()
        body, ms = await tab.fetch(save.message.url)
        if not body.startswith(b"%PDF-" if merged else b"PK\x03\x04"):
            raise TabError("download", "the file is not the PDF or ZIP asked for")
        self.tally.downloaded_bytes += len(body)
        self._record("download", ms)

    async def _step(self, action: str, interaction) -> None:
        self._record(action, await interaction)
        self._check_screen()

    def _record(self, action: str, ms: float) -> None:
        self.tally.timings[action].append(ms)

    async def _think(self) -> None:
        """A pause between clicks, during which the tab's timed idle check may run."""
        until = time.monotonic() + self.rng.uniform(*self.think_range)
        while (timer := self.tab and self.tab.next_timer()) and timer[1] < until:
            await asyncio.sleep(max(0.0, timer[1] - time.monotonic()))
            self._record(IDLE_CHECK, await self.tab.timed_rerun(timer[0]))
        await asyncio.sleep(max(0.0, until - time.monotonic()))
        if time.monotonic() >= self.deadline:
            raise _RoundOver

    def _check_screen(self) -> None:
        if "Reports" not in self.tab.texts("heading"):
            raise TabError("lost screen", "the Reports screen was not shown")

    def _rows_shown(self) -> int:
        for body in self.tab.texts("markdown"):
            if found := SHOWING.search(body):
                first, last = (int(n.replace(",", "")) for n in found.groups())
                return last - first + 1
        return 0
