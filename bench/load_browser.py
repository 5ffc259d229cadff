"""One browser tab on a running portal, speaking Streamlit's own websocket protocol.

A Chromium page per simulated person would take the CPU the server needs on a small machine.
This sends and reads the same protobuf messages the frontend does (BackMsg out, ForwardMsg in,
classes shipped inside the streamlit package) and keeps what the frontend keeps between runs:
the elements on screen, by widget key, and the widget values it sends back with every rerun.
The session cookie travels in the handshake, so the app signs the tab in exactly as it does a
browser's. Downloads are fetched over HTTP like the browser's save link.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

# A run ends for the person when one of these arrives; FINISHED_EARLY_FOR_RERUN (st.rerun)
# is followed by the run that replaces it.
_DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
_BROKEN = {ForwardMsg.FINISHED_WITH_COMPILE_ERROR}


class TabError(Exception):
    """What a person would see as broken: an exception or error box, a lost connection, a stall."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass
class Element:
    kind: str           # the Element oneof: "button", "text_input", "dataframe", ...
    message: object     # that element's protobuf
    fragment_id: str    # "" outside any st.fragment


def widget_key(widget_id: str) -> str:
    """The key the page gave a widget (`$$ID-<hash>-<key>`), or the id when it has none."""
    parts = widget_id.split("-", 2)
    return parts[2] if widget_id.startswith("$$ID-") and len(parts) == 3 else widget_id


class BrowserTab:
    def __init__(self, base_url: str, *, cookies: dict[str, str], timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies, self.timeout = cookies, timeout
        self.socket = None
        self.page_hash = ""
        self.elements: dict[tuple[int, ...], Element] = {}
        self.states: dict[str, WidgetState] = {}
        # st.fragment(run_every=...) timers, as the frontend keeps them: fragment -> (every, due).
        # A repeated auto_rerun message with the same interval leaves a running timer alone.
        self.timers: dict[str, tuple[float, float]] = {}

    # --- what is on screen ----------------------------------------------------------------

    def widget(self, key: str) -> Element | None:
        """The widget the page gave this key, or the first whose key starts with it.

        (The results grid's key ends in the page and the search, so it is found by its start.)
        """
        for element in self.elements.values():
            widget_id = getattr(element.message, "id", "")
            if widget_id and widget_key(widget_id).startswith(key):
                return element
        return None

    def needed(self, key: str) -> Element:
        """The widget, or a TabError when the screen does not show it (as a person would notice)."""
        found = self.widget(key)
        if found is None:
            raise TabError("missing", f"the screen shows no {key}")
        return found

    def texts(self, kind: str) -> list[str]:
        return [element.message.body for element in self.elements.values() if element.kind == kind]

    # --- talking to the server ------------------------------------------------------------

    async def open(self, page_name: str) -> float:
        """Connect like a new tab on /<page_name> and wait for the first run; milliseconds."""
        started = time.perf_counter()
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        url = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        try:
            self.socket = await asyncio.wait_for(websockets.connect(
                url, subprotocols=["streamlit"], additional_headers={"Cookie": cookie},
                max_size=None, open_timeout=self.timeout), self.timeout)
        except (TimeoutError, OSError, websockets.WebSocketException) as error:
            raise TabError("connect", error.__class__.__name__) from None
        back = BackMsg()
        back.rerun_script.page_name = page_name
        await self._run(back, started)
        return (time.perf_counter() - started) * 1000

    def next_timer(self) -> tuple[str, float] | None:
        """The timed fragment due first, and when (time.monotonic())."""
        if not self.timers:
            return None
        fragment_id, (_, due) = min(self.timers.items(), key=lambda item: item[1][1])
        return fragment_id, due

    async def timed_rerun(self, fragment_id: str) -> float:
        """The rerun the frontend sends by itself when a run_every fragment is due."""
        every, _ = self.timers[fragment_id]
        self.timers[fragment_id] = (every, time.monotonic() + every)
        return await self.rerun(fragment_id=fragment_id, automatic=True)

    async def rerun(self, *, values: dict[str, WidgetState] | None = None,
                    triggers: tuple[Element, ...] = (), fragment_id: str = "",
                    automatic: bool = False) -> float:
        """Send changed widget values and clicked buttons, as the frontend does; milliseconds.

        A click inside an st.fragment reruns only that fragment (fragment_id), as in a browser.
        """
        started = time.perf_counter()
        self.states.update(values or {})
        back = BackMsg()
        client = back.rerun_script
        client.page_script_hash = self.page_hash
        client.fragment_id = fragment_id
        client.is_auto_rerun = automatic
        client.widget_states.widgets.extend(self.states.values())
        for button in triggers:
            client.widget_states.widgets.add(id=button.message.id, trigger_value=True)
        await self._run(back, started)
        return (time.perf_counter() - started) * 1000

    async def _run(self, back: BackMsg, started: float) -> None:
        back.rerun_script.context_info.timezone = "UTC"
        back.rerun_script.context_info.locale = "en-US"
        try:
            await self.socket.send(back.SerializeToString())
            deadline = started + self.timeout
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TabError("timeout", f"no end of run within {self.timeout:.0f} s")
                raw = await asyncio.wait_for(self.socket.recv(), left)
                message = ForwardMsg()
                message.ParseFromString(raw)
                if self._take(message):
                    break
        except TimeoutError:
            raise TabError("timeout", f"no end of run within {self.timeout:.0f} s") from None
        except websockets.ConnectionClosed as closed:
            raise TabError("disconnect", str(closed.rcvd.code if closed.rcvd else "")) from None
        # The frontend forgets the values of widgets that are no longer on screen.
        shown = {getattr(e.message, "id", "") for e in self.elements.values()}
        self.states = {key: state for key, state in self.states.items() if key in shown}

    def _take(self, message: ForwardMsg) -> bool:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            fragments = set(message.metadata.run.fragment_ids)
            # A full run redraws the screen; a fragment run redraws only that fragment.
            self.elements = {} if not fragments else {
                path: e for path, e in self.elements.items() if e.fragment_id not in fragments}
        elif kind == "auto_rerun":
            every, fragment_id = message.auto_rerun.interval, message.auto_rerun.fragment_id
            if self.timers.get(fragment_id, (None,))[0] != every:
                self.timers[fragment_id] = (every, time.monotonic() + every)
        elif kind == "stop_auto_rerun":
            for fragment_id in message.stop_auto_rerun.fragment_ids:
                self.timers.pop(fragment_id, None)
        elif kind == "navigation":
            self.page_hash = message.navigation.page_script_hash
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            element_kind = element.WhichOneof("type")
            body = getattr(element, element_kind)
            if element_kind == "exception":
                raise TabError("exception", f"{body.type}: {body.message}"[:200])
            if element_kind == "alert" and body.format == Alert.ERROR:
                raise TabError("error box", body.body[:200])
            self.elements[tuple(message.metadata.delta_path)] = Element(
                element_kind, body, message.delta.fragment_id)
        elif kind == "script_finished":
            if message.script_finished in _BROKEN:
                raise TabError("exception", "the script did not compile")
            return message.script_finished in _DONE
        return False

    async def fetch(self, path: str) -> tuple[bytes, float]:
        """GET a download link as the browser's save does (with the session cookie): body, ms."""
        started = time.perf_counter()
        parts = urlsplit(self.base_url)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, parts.port), self.timeout)
            cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nCookie: {cookie}\r\n"
                         "Connection: close\r\n\r\n".encode("ascii"))
            raw = await asyncio.wait_for(reader.read(), self.timeout)
            writer.close()
        except (TimeoutError, OSError) as error:
            raise TabError("download", error.__class__.__name__) from None
        head, _, body = raw.partition(b"\r\n\r\n")
        status = head.split(b" ", 2)[1] if head.startswith(b"HTTP/") else b"?"
        if status != b"200":
            raise TabError("download", f"HTTP {status.decode(errors='replace')}")
        if b"transfer-encoding: chunked" in head.lower():
            body = _dechunked(body)
        return body, (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        socket, self.socket = self.socket, None
        if socket is not None:
            try:
                await asyncio.wait_for(socket.close(), self.timeout)
            except (TimeoutError, OSError, websockets.WebSocketException):
                pass  # already gone: closing is all that was wanted


def text_value(element: Element, text: str) -> WidgetState:
    return WidgetState(id=element.message.id, string_value=text)


def choice_value(element: Element, index: int) -> WidgetState:
    """A radio's choice: the frontend sends the option's label, not its index."""
    return WidgetState(id=element.message.id, string_value=element.message.options[index])


def selected_rows(element: Element, rows: list[int]) -> WidgetState:
    """A dataframe's ticked rows, as the frontend sends them (JSON text in string_value)."""
    selection = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return WidgetState(id=element.message.id, string_value=json.dumps(selection))


def _dechunked(body: bytes) -> bytes:
    """A streamed (chunked) HTTP body as the bytes it carries."""
    out, at = bytearray(), 0
    while True:
        end = body.index(b"\r\n", at)
        length = int(body[at:end].split(b";")[0], 16)
        if length == 0:
            return bytes(out)
        out += body[end + 2:end + 2 + length]
        at = end + 2 + length + 2
