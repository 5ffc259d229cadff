"""Bounded validation of an uploaded report PDF: size, header, then a full parse in a child process.

pypdf runs in a separate interpreter because a hostile or broken file can make a parser run for
a long time or allocate without bound; the child caps its own address space and CPU time, and
the parent kills it at the wall-clock limit. The child is started with `-I` on this file's path
(not `-m services.reports.pdf_check`), so it needs no particular working directory and ignores
PYTHONPATH, PYTHONSTARTUP and the user site directory.

"Readable" means pypdf can read the page tree and decode and tokenise every page's content
stream and the content of every Form XObject the page's resources lead to (followed to
MAX_FORM_DEPTH levels and MAX_FORMS forms a file; a form that leads back to itself is refused,
since it would make a renderer draw without end). Image data is not decoded: pypdf would need
an external decoder for JBIG2 scans, and rejecting those would turn away good faxed reports.

Cost, measured with Python 3.11 and pypdf 7.1.0: a normal 1-3 page report takes 130-150 ms, of
which about 10 ms is interpreter start, 100-120 ms the pypdf import (it loads cryptography,
fontTools and Pillow eagerly) and 1-3 ms the parse. Hiding cryptography would save about 35 ms,
but pypdf then fails on AES-encrypted files with DependencyError instead of naming them
encrypted, so the import is left alone.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
from dataclasses import dataclass

PDF_MAGIC = b"%PDF-"

DAMAGED = "This PDF is damaged or incomplete and cannot be read."
TOO_COMPLEX = "This PDF is damaged or too complex to check, so it cannot be posted."
ENCRYPTED = "This PDF is password-protected; password-protected PDFs cannot be posted."
NOT_PDF = "This is not a PDF file (it does not begin with %PDF-)."
EMPTY = "The file is empty."
NO_PAGES = "This PDF has no pages."
SELF_DRAWING = "This PDF draws a part of itself inside itself, so it cannot be posted."
LIMIT_REACHED = ("This PDF is too complex to check (it holds more content than the check reads), "
                 "so it cannot be posted.")
MAX_FORM_DEPTH = 12
MAX_FORMS = 2_000
TOO_DEEP = (f"This PDF nests drawings more than {MAX_FORM_DEPTH} levels deep, so it cannot be "
            "posted.")
TOO_MANY_FORMS = (f"This PDF has more than {MAX_FORMS:,} drawings inside drawings to check, so it "
                  "cannot be posted.")


@dataclass(frozen=True)
class PdfCheck:
    """The outcome of check_pdf: the page count when accepted, otherwise a reason for the user."""

    page_count: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.reason is None


def _rejected(reason: str) -> PdfCheck:
    return PdfCheck(page_count=None, reason=reason)


def too_large(max_bytes: int) -> str:
    # Imported here: the checking child runs this file on its own (-I), without the package.
    from services.wording import size

    return f"This file is larger than the {size(max_bytes)} limit."


def check_pdf(data: bytes, *, max_bytes: int, max_pages: int, timeout_seconds: float,
              memory_mb: int) -> PdfCheck:
    """Accept `data` only if it is a readable, unencrypted PDF within the size and page limits."""
    if not data:
        return _rejected(EMPTY)
    if len(data) > max_bytes:
        return _rejected(too_large(max_bytes))
    if not data.startswith(PDF_MAGIC):
        return _rejected(NOT_PDF)

    # The CPU limit is a second guard: it still ends the child if this process dies first.
    cpu_seconds = math.ceil(timeout_seconds) + 1
    command = [sys.executable, "-I", __file__, str(memory_mb), str(cpu_seconds), str(max_pages)]
    try:
        # The limits are set by the child itself rather than in preexec_fn, which is unsafe in a
        # threaded process such as the Streamlit server.
        done = subprocess.run(command, input=data, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, timeout=timeout_seconds, check=False)
    except subprocess.TimeoutExpired:
        return _rejected(f"Reading this PDF took longer than {timeout_seconds:g} seconds; "
                         "it may be damaged.")
    return _verdict(done.returncode, done.stdout, max_pages)


def _verdict(returncode: int, stdout: bytes, max_pages: int) -> PdfCheck:
    """Turn the child's exit status and its one-line JSON answer into a PdfCheck."""
    try:
        answer = json.loads(stdout.decode("ascii").strip().splitlines()[-1])
    except (UnicodeDecodeError, IndexError, ValueError):
        answer = None
    if returncode != 0 or not isinstance(answer, dict):
        # Killed by a signal (CPU limit), out of memory before it could answer, or crashed.
        return _rejected(TOO_COMPLEX)
    outcome = answer.get("outcome")
    pages = answer.get("pages")
    if outcome == "ok" and isinstance(pages, int):
        if pages == 0:
            return _rejected(NO_PAGES)
        if pages > max_pages:
            return _rejected(f"This PDF has {pages} pages; the limit is {max_pages}.")
        return PdfCheck(page_count=pages, reason=None)
    reasons = {"encrypted": ENCRYPTED, "damaged": DAMAGED, "memory": TOO_COMPLEX,
               "self_drawing": SELF_DRAWING, "too_deep": TOO_DEEP, "too_many_forms": TOO_MANY_FORMS,
               "limit": LIMIT_REACHED}
    return _rejected(reasons.get(outcome, TOO_COMPLEX))


def _read_in_child(data: bytes, max_pages: int) -> dict[str, object]:
    """Parse the whole file with pypdf; runs only in the limited child process."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return {"outcome": "encrypted"}
        pages = len(reader.pages)
        if pages == 0 or pages > max_pages:
            # The parent rejects it anyway; no need to read the content.
            return {"outcome": "ok", "pages": pages}
        forms = _FormWalk(reader)
        for page in reader.pages:
            contents = page.get_contents()
            if contents is not None:
                # Decoding and tokenising every content stream is what proves the pages readable.
                _ = contents.operations
            problem = forms.walk(page.get("/Resources"))
            if problem is not None:
                return {"outcome": problem}
        return {"outcome": "ok", "pages": pages}
    except MemoryError:
        return {"outcome": "memory"}
    except LimitReachedError:
        # pypdf's own limits (tokens, decoded bytes): the file is beyond what we read, not broken.
        return {"outcome": "limit"}
    except Exception:  # noqa: BLE001 - see below
        # Besides its own PdfReadError and LimitReachedError, pypdf fails on broken input with
        # KeyError, ValueError, zlib.error, RecursionError and more: all mean "cannot be read".
        return {"outcome": "damaged"}


class _FormWalk:
    """Follows Form XObjects from page resources, tokenising each; runs only in the child."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.forms = 0

    def walk(self, resources, path: tuple[object, ...] = ()) -> str | None:
        """None when every form under `resources` is readable and finite, else the outcome."""
        from pypdf.generic import ContentStream, DictionaryObject, IndirectObject

        resources = resources.get_object() if resources is not None else None
        if not isinstance(resources, DictionaryObject):
            return None
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else None
        if not isinstance(xobjects, DictionaryObject):
            return None
        for reference in xobjects.values():
            form = reference.get_object()
            if not isinstance(form, DictionaryObject) or form.get("/Subtype") != "/Form":
                continue
            # Indirect objects are the only way back to an ancestor; direct ones cannot cycle.
            key = ((reference.idnum, reference.generation) if isinstance(reference, IndirectObject)
                   else id(form))
            if key in path:
                return "self_drawing"
            if len(path) >= MAX_FORM_DEPTH:
                return "too_deep"
            self.forms += 1
            if self.forms > MAX_FORMS:
                return "too_many_forms"
            _ = ContentStream(form, self.reader).operations
            problem = self.walk(form.get("/Resources"), (*path, key))
            if problem is not None:
                return problem
        return None


def _child_main(argv: list[str]) -> int:
    """Entry point of the child: set limits, read the PDF from stdin, print one JSON line."""
    import logging
    import warnings

    memory_mb, cpu_seconds, max_pages = (int(value) for value in argv)
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    # SIGXCPU and crashes would otherwise dump a core of up to memory_mb each time.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # A hostile file can trigger a warning per object; nobody reads them here.
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    data = sys.stdin.buffer.read()
    answer = _read_in_child(data, max_pages)
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
