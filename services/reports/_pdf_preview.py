"""Drawing a report's first page as a PNG, only ever in a limited child process.

PDFium has no limit of its own: a tiny PDF whose page draws a Form XObject that draws itself
grew a process by 200-330 MB a second until it died. So the portal's server never imports
pypdfium2. A child interpreter (`-I` on this file's path, like the upload check) sets its own
address-space, CPU-time and core-dump limits, the parent kills it at a wall-clock limit, and
the picture's longest side is capped whatever the page's shape. A file whose picture cannot be
drawn within the limits gets a reason people can read, never a traceback.

One child may draw several files in turn (the demo seed's own files, which are trusted); when
such a child dies, every file it did not answer is drawn again in a child of its own, so one
bad file never costs the others their pictures.
"""

from __future__ import annotations

import json
import math
import resource
import signal
import struct
import subprocess
import sys
from dataclasses import dataclass

# About the width the report view shows; a letter page becomes 900 x 1165 pixels.
WIDTH = 900
# The longest side of any picture, whatever the page's shape (a page 10x taller than wide
# becomes 200 x 2000): the bitmap can never be larger than 2000 x 2000.
MAX_SIDE = 2000
_LENGTH = struct.Struct(">Q")

NO_PAGES = "The PDF has no page to draw."
CRASHED = "The drawing process stopped before it finished (the file crashed the PDF renderer)."


@dataclass(frozen=True)
class Preview:
    """A PNG of page one, or the reason there is none."""

    png: bytes | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.png is not None


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory_mb: int
    grayscale: bool = False


def render(data: bytes, *, limits: Limits) -> Preview:
    """The first page of one (untrusted) PDF, drawn in a child of its own."""
    return render_many([data], limits=limits, per_child=1)[0]


def render_many(files: list[bytes], *, limits: Limits, per_child: int = 1) -> list[Preview]:
    """One Preview per file, in order; up to `per_child` files share one child."""
    previews: list[Preview] = []
    for start in range(0, len(files), per_child):
        group = files[start:start + per_child]
        answers, failure = _run_child(group, limits)
        previews.extend(answers)
        unanswered = group[len(answers):]
        if len(group) == 1:
            previews.extend(Preview(None, failure) for _ in unanswered)
        else:
            # The child died on one of them; each of the rest gets a child of its own.
            previews.extend(render(data, limits=limits) for data in unanswered)
    return previews


def _run_child(files: list[bytes], limits: Limits) -> tuple[list[Preview], str]:
    """Draw `files` in one child: the answers it gave, and why it gave no more."""
    seconds = limits.seconds * len(files)
    # The CPU limit is a second guard: it still ends the child if this process dies first.
    cpu_seconds = math.ceil(seconds) + 1
    command = [sys.executable, "-I", __file__, str(limits.memory_mb), str(cpu_seconds),
               str(WIDTH), str(MAX_SIDE), "1" if limits.grayscale else "0"]
    request = b"".join(_LENGTH.pack(len(data)) + data for data in files)
    try:
        # The limits are set by the child itself: preexec_fn is unsafe in a threaded process.
        done = subprocess.run(command, input=request, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, timeout=seconds, check=False)
        output, failure = done.stdout, _death_reason(done.returncode, limits, cpu_seconds)
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout or b""
        failure = (f"Drawing the first page took longer than {limits.seconds:g} seconds "
                   "(the file is too complex to preview).")
    return _answers(output, limits)[:len(files)], failure


def _death_reason(returncode: int, limits: Limits, cpu_seconds: int) -> str:
    if returncode == -signal.SIGXCPU:
        return (f"Drawing the first page needed more than {cpu_seconds} seconds of processor "
                "time (the file is too complex to preview).")
    if returncode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS,
                      -signal.SIGTRAP):
        return (f"The drawing process was stopped: the file needs more than the "
                f"{limits.memory_mb} MB of memory allowed, or crashed the PDF renderer.")
    return CRASHED


def _answers(output: bytes, limits: Limits) -> list[Preview]:
    """Parse the child's answers: a JSON line per file, followed by its PNG bytes when drawn."""
    answers: list[Preview] = []
    position = 0
    while position < len(output):
        end = output.find(b"\n", position)
        if end < 0:
            break
        try:
            answer = json.loads(output[position:end].decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            break
        position = end + 1
        if not isinstance(answer, dict):
            break
        if answer.get("outcome") == "ok":
            size = answer.get("bytes")
            if not isinstance(size, int) or position + size > len(output):
                break  # cut off mid-picture: the child died while writing it
            answers.append(Preview(output[position:position + size]))
            position += size
        else:
            answers.append(Preview(None, _reason(answer, limits)))
    return answers


def _reason(answer: dict, limits: Limits) -> str:
    outcome = answer.get("outcome")
    if outcome == "memory":
        return (f"Drawing the first page needs more than the {limits.memory_mb} MB of memory "
                "allowed (the file is too complex to preview).")
    if outcome == "no_pages":
        return NO_PAGES
    if outcome == "page_size":
        return "The first page has no usable size, so it cannot be drawn."
    if outcome == "pdfium":
        return "The PDF renderer could not read this file's first page."
    return CRASHED


def _draw(data: bytes, width: int, max_side: int, grayscale: bool) -> tuple[dict, bytes]:
    """Draw page one; runs only in the limited child process."""
    import io

    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        return {"outcome": "pdfium"}, b""
    try:
        if len(document) == 0:
            return {"outcome": "no_pages"}, b""
        page = document[0]
        page_width, page_height = page.get_size()
        if not (page_width > 0 and page_height > 0 and math.isfinite(page_width * page_height)):
            return {"outcome": "page_size"}, b""
        scale = width / page_width
        longest = max(page_width, page_height) * scale
        if longest > max_side:
            scale *= max_side / longest
        image = page.render(scale=scale, grayscale=grayscale).to_pil()
        out = io.BytesIO()
        # Level 1: a fifth of the time of the default for a few more kilobytes.
        image.save(out, format="PNG", compress_level=1)
        return {"outcome": "ok", "bytes": out.tell()}, out.getvalue()
    except MemoryError:
        return {"outcome": "memory"}, b""
    except pypdfium2.PdfiumError:
        return {"outcome": "pdfium"}, b""
    finally:
        document.close()


def _child_main(argv: list[str]) -> int:
    """Entry point of the child: set limits, then answer each length-prefixed PDF on stdin."""
    memory_mb, cpu_seconds, width, max_side, grayscale = (int(value) for value in argv)
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while header := source.read(_LENGTH.size):
        (size,) = _LENGTH.unpack(header)
        data = source.read(size)
        try:
            answer, png = _draw(data, width, max_side, bool(grayscale))
        except MemoryError:
            answer, png = {"outcome": "memory"}, b""
        except Exception:  # noqa: BLE001 - any other failure is "could not draw", said plainly
            answer, png = {"outcome": "error"}, b""
        sink.write(json.dumps(answer).encode("ascii") + b"\n" + png)
        sink.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
