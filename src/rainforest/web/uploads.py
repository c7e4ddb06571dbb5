"""Uploaded documents: untrusted files read off the event loop, in chunks, with limits on
what a zip may unpack to and no XML document types; every failure to read one is a
:class:`~rainforest.errors.DocumentError` (422 with its problems), never a 500."""

from __future__ import annotations

import shutil
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from rainforest import io as documents
from rainforest.errors import DocumentError, Issue
from rainforest.model.ecosystem import Ecosystem
from rainforest.store import Store, Version, crash_point

__all__ = ["UPLOADS", "import_upload", "issue_dict", "load_upload", "problems_of", "read_upload"]


def issue_dict(issue: Any) -> dict[str, Any]:
    """One problem of a document as JSON: its text and its place."""
    fields = ("file", "line", "column", "row", "path", "message", "expected", "got", "hint")
    # place: as the text says it (a sheet's column as its letter: 'row 7, column C')
    return {"text": str(issue), "place": getattr(issue, "place", None), **{k: getattr(issue, k, None) for k in fields}}


def load_upload(path: Path) -> Ecosystem:
    """Read an uploaded document: any failure to read it (too deeply nested, a broken or
    refused file) is a :class:`DocumentError` with what went wrong (422), never a 500."""
    try:
        return documents.load(path)  # looked up at each call: tests slow it down
    except DocumentError:
        raise
    except RecursionError:
        problem = Issue(
            "",
            "the document is nested too deeply to read",
            expected="sections of records, each a mapping of fields",
            hint="Check the file: no rainforest document nests more than a few levels.",
            file=path.name,
        )
    except Exception as exc:  # an upload is untrusted: whatever breaks the reader is its problem
        problem = Issue(
            "",
            "the file could not be read",
            expected="a YAML, JSON or Excel document, or a zip of the CSV folder",
            got=f"{type(exc).__name__}: {str(exc)[:200]}",
            hint="Open and save it again with the program that made it, or `rainforest convert` it.",
            file=path.name,
        )
    raise DocumentError([problem], source=path.name)


def import_upload(store: Store, slug: str, path: Path, *, author: str, message: str, expected: int | None) -> Version:
    """Read an upload (see :func:`load_upload`), then save it as the next version of ``slug``."""
    eco = load_upload(path)  # every problem is reported here, and nothing has been written yet
    crash_point("import:validated")
    return store.commit(slug, eco, author=author, message=message, expected=expected)


#: What an upload may be (a zip holds the CSV folder).
UPLOADS = (".yaml", ".yml", ".json", ".xlsx", ".xlsm", ".zip")
#: Uploads are copied and unzipped this many bytes at a time.
CHUNK = 1 << 20
#: A zipped CSV folder unpacks to at most this many times its size, and at most this much.
ZIP_RATIO = 100
UNZIPPED_MAX = 1 << 30


async def read_upload(file: UploadFile, tmp: str) -> Path:
    """The uploaded document as a path in ``tmp``: a file, or the folder of a zipped CSV
    folder. An unknown kind of file or a broken zip raises :class:`DocumentError`.

    Only receiving the upload runs on the event loop; writing and unpacking it, like the
    routes' reading, validating and saving, runs on the thread pool (an upload on the event
    loop stops every other request, sign-in included, until it is done)."""
    await file.seek(0)
    return await run_in_threadpool(_unpack, file.filename, file.file, tmp)


def _unpack(filename: str | None, data: BinaryIO, tmp: str) -> Path:
    name = Path(filename or "upload").name or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOADS:
        raise DocumentError(
            [
                Issue(
                    "",
                    "unknown kind of file",
                    expected="a YAML, JSON or Excel document, or a zip of the CSV folder (" + ", ".join(UPLOADS) + ")",
                    got=repr(suffix or name),
                    hint="Save the document in one of these forms (`rainforest convert` writes them).",
                    file=name,
                )
            ],
            source=name,
        )
    path = Path(tmp) / name
    with path.open("wb") as out:  # in chunks: the upload is never held in memory whole
        shutil.copyfileobj(data, out, CHUNK)
    if suffix in (".xlsx", ".xlsm"):
        _no_dtd(path, name)
    if suffix != ".zip":
        return path
    folder = Path(tmp) / (Path(name).stem or "document")
    folder.mkdir(exist_ok=True)
    budget = min(UNZIPPED_MAX, max(ZIP_RATIO * path.stat().st_size, CHUNK))

    def bomb(size: str) -> DocumentError:
        return DocumentError(
            [
                Issue(
                    "",
                    "the zip unpacks to more than this server accepts",
                    expected=f"at most {budget:,} bytes of CSV ({ZIP_RATIO} times the zip, {UNZIPPED_MAX // 2**20} MiB at most)",
                    got=size,
                    hint="Upload the document as YAML, JSON or Excel, or split it.",
                    file=name,
                )
            ],
            source=name,
        )

    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if i.filename.endswith(".csv")]
            declared = sum(i.file_size for i in members)
            if declared > budget:
                raise bomb(f"{declared:,} bytes declared")
            written = 0
            for info in members:  # counted as written: the declared sizes may lie
                with archive.open(info) as source, (folder / Path(info.filename).name).open("wb") as target:
                    while chunk := source.read(CHUNK):
                        written += len(chunk)
                        if written > budget:
                            raise bomb(f"more than {budget:,} bytes")
                        target.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
        raise DocumentError(
            [Issue("", "not a zip archive", expected="a zip of the CSV folder", got=str(exc)[:200], file=name)],
            source=name,
        ) from None
    return folder


def _no_dtd(path: Path, name: str) -> None:
    """Refuse a workbook whose XML declares a document type: Excel never writes one, and its
    entities are how XML bombs and external entities come in."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith((".xml", ".rels", ".vml")):
                    with archive.open(info) as part:
                        prolog = part.read(4096)
                    if b"<!DOCTYPE" in prolog:
                        raise DocumentError(
                            [
                                Issue(
                                    "",
                                    "the workbook declares a document type (DTD)",
                                    expected="an Excel workbook as Excel or LibreOffice saves it (no DTD)",
                                    got=f"<!DOCTYPE in {info.filename}",
                                    hint="Open it in Excel or LibreOffice and save it again.",
                                    file=name,
                                )
                            ],
                            source=name,
                        )
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError):
        return  # not a readable zip: the reader says what is wrong with it


def problems_of(exc: DocumentError, tmp: str) -> tuple[str, list[dict[str, Any]]]:
    """The first line of the error and every problem, as the user named the file (the
    temporary folder the upload was kept in is left out)."""
    prefix = str(Path(tmp)) + "/"

    def clean(value: Any) -> Any:
        return value.replace(prefix, "") if isinstance(value, str) else value

    problems = [{k: clean(v) for k, v in issue_dict(i).items()} for i in exc.issues]
    return clean(str(exc).splitlines()[0]), problems
