"""Active content in evidence PDFs, found with a real PDF parser (pypdf), not by grepping bytes.

An evidence PDF is read by staff and experts in their own viewers; a document that runs
JavaScript, launches a program or carries embedded files is refused with the reason. The walk
starts at the trailer and follows every reference a viewer could follow (catalogue, names tree,
pages, annotations, form fields), iteratively and bounded, so a crafted file cannot recurse or
loop the inspector.
"""

from __future__ import annotations

from os import PathLike

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from .refusals import refusal, refuse

MAX_OBJECTS = 200_000


def _deref(obj: object) -> object:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _verdict(obj: DictionaryObject) -> str | None:
    action = obj.get("/S")
    if action == "/JavaScript" or "/JS" in obj or "/JavaScript" in obj:  # an action, or the names tree's
        return "pdf_javascript"
    if action == "/Launch":
        return "pdf_launch_action"
    if ("/EF" in obj or "/EmbeddedFiles" in obj or obj.get("/Type") == "/EmbeddedFile"
            or obj.get("/Subtype") == "/FileAttachment"):
        return "pdf_embedded_file"
    return None


def inspect_pdf(path: str | PathLike[str]) -> None:
    """Refuse (422) a PDF pypdf cannot read, or one with JavaScript, launch actions or embedded files."""
    try:
        # an open file, not the path: given a path pypdf reads the whole file into memory first
        with open(path, "rb") as handle:
            _walk(PdfReader(handle, strict=False))
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        raise refusal("corrupt_file", reason="pdf_unreadable") from exc


def _walk(reader: PdfReader) -> None:
    """Every object a viewer can reach from the trailer, each once; a stream's data is let go as soon
    as its dictionary is checked, so a large file's images are never all held at once."""
    if reader.is_encrypted:
        refuse("pdf_encrypted")
    stack: list[object] = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
        obj = _deref(item)
        visited += 1
        if visited > MAX_OBJECTS:
            refuse("corrupt_file", reason="pdf_too_many_objects")
        if isinstance(obj, DictionaryObject):
            verdict = _verdict(obj)
            if verdict:
                refuse(verdict)
            for name, value in obj.items():
                if name in ("/Parent", "/P"):  # back references: reached from above already
                    continue
                if isinstance(value, IndirectObject | DictionaryObject | ArrayObject):
                    stack.append(value)
            if isinstance(obj, StreamObject):
                reader.resolved_objects.clear()  # objects already seen are not visited again
        elif isinstance(obj, ArrayObject):
            stack.extend(v for v in obj if isinstance(v, IndirectObject | DictionaryObject | ArrayObject))
