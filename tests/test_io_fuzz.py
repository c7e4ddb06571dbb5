"""Every reader against random, truncated and mutated input (Hypothesis): whatever the
bytes, ``rf.load`` returns an ecosystem or raises :class:`DocumentError` (the CLI's exit
2, the workbench's 422), never another exception, and each case ends in bounded time
(inputs are a few kilobytes; the per-case bound is generous, for a loaded machine, and
catches a reader that loops or explodes rather than one that is slow)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rainforest as rf
from rainforest.errors import DocumentError
from rainforest.io.tabular import TOP_SHEET
from rainforest.model.schema import SECTIONS

#: seconds one case may take; a runaway reader (an alias bomb, a quadratic path) takes minutes
CASE_BOUND_S = 20.0

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes | dict[str, bytes]]:
    """The bundled example in every form, as bytes (a CSV folder as its files)."""
    folder = tmp_path_factory.mktemp("originals")
    eco = rf.datasets.kalundborg()
    out: dict[str, bytes | dict[str, bytes]] = {}
    for form, name in (("yaml", "k.yaml"), ("json", "k.json"), ("excel", "k.xlsx")):
        out[form] = rf.save(eco, folder / name).read_bytes()
    csv = rf.save(eco, folder / "k")
    out["csv"] = {p.name: p.read_bytes() for p in sorted(csv.iterdir())}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in out["csv"].items():  # type: ignore[union-attr]
            archive.writestr(f"k/{name}", data)
    out["zip"] = buffer.getvalue()
    return out


def loads_or_refuses(path: Path) -> None:
    """The property: an ecosystem, or a DocumentError with at least one issue; in time."""
    start = time.perf_counter()
    refused: DocumentError | None = None
    try:
        eco = rf.load(path)
    except DocumentError as exc:
        refused = exc
    if refused is None:
        assert isinstance(eco, rf.Ecosystem)
    else:
        assert refused.issues, "a DocumentError without an issue"
        assert all(str(issue) for issue in refused.issues)
    elapsed = time.perf_counter() - start
    assert elapsed < CASE_BOUND_S, f"{path.name} took {elapsed:.1f} s"


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, or with a few bytes replaced, inserted or deleted."""
    if draw(st.booleans()):
        return data[: draw(st.integers(0, len(data)))]
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        op = draw(st.sampled_from(["replace", "insert", "delete", "syntax"]))
        byte = draw(st.integers(0, 255))
        if op == "replace" and out:
            out[at] = byte
        elif op == "insert":
            out[at:at] = bytes([byte])
        elif op == "delete" and out:
            del out[at]
        else:  # characters that matter to the parsers
            out[at:at] = draw(
                st.sampled_from([b"[", b"{", b"&a ", b"*a", b'"', b",", b":", b"\n", b"- ", b"\t", b"\\"])
            )
    return bytes(out)


RANDOM = st.binary(max_size=2000)


# -- YAML and JSON --------------------------------------------------------------------
@FUZZ
@given(data=RANDOM, suffix=st.sampled_from([".yaml", ".json"]))
def test_random_bytes_as_text(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"doc{suffix}"
    path.write_bytes(data)
    loads_or_refuses(path)


@FUZZ
@given(data=st.data(), form=st.sampled_from(["yaml", "json"]))
def test_mutated_text_documents(
    tmp_path: Path, originals: dict[str, bytes | dict[str, bytes]], data: st.DataObject, form: str
) -> None:
    original = originals[form]
    assert isinstance(original, bytes)
    path = tmp_path / f"doc.{form}"
    path.write_bytes(data.draw(mutated(original)))
    loads_or_refuses(path)


@FUZZ
@given(text=st.text(alphabet=st.sampled_from("[]{}:,-&*!|>'\"#\n ax1.%@`?"), max_size=400))
def test_yaml_punctuation(tmp_path: Path, text: str) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("format: rainforest/1\nname: p\nactors:\n  - id: a\nx_any: " + text, encoding="utf-8")
    loads_or_refuses(path)


# -- CSV folder and zip ---------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_mutated_csv_folders(
    tmp_path: Path, originals: dict[str, bytes | dict[str, bytes]], data: st.DataObject
) -> None:
    files = originals["csv"]
    assert isinstance(files, dict)
    victim = data.draw(st.sampled_from(sorted(files)))
    folder = tmp_path / "k"
    folder.mkdir(exist_ok=True)
    for child in folder.iterdir():
        child.unlink()
    for name, content in files.items():
        (folder / name).write_bytes(data.draw(mutated(content)) if name == victim else content)
    loads_or_refuses(folder)


@FUZZ
@given(data=RANDOM, name=st.sampled_from([f"{s}.csv" for s in [*SECTIONS, TOP_SHEET]]))
def test_random_csv_files(tmp_path: Path, data: bytes, name: str) -> None:
    folder = tmp_path / "k"
    folder.mkdir(exist_ok=True)
    for child in folder.iterdir():
        child.unlink()
    (folder / "ecosystem.csv").write_bytes(b"format,name\nrainforest/1,p\n")
    (folder / name).write_bytes(data)
    loads_or_refuses(folder)


@FUZZ
@given(data=st.data())
def test_mutated_zips(tmp_path: Path, originals: dict[str, bytes | dict[str, bytes]], data: st.DataObject) -> None:
    original = originals["zip"]
    assert isinstance(original, bytes)
    path = tmp_path / "k.zip"
    path.write_bytes(data.draw(st.one_of(mutated(original), RANDOM)))
    loads_or_refuses(path)


# -- Excel ----------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_mutated_workbooks(tmp_path: Path, originals: dict[str, bytes | dict[str, bytes]], data: st.DataObject) -> None:
    """The workbook's bytes mutated, or one of the XML parts inside it (so that the zip
    stays readable and openpyxl sees broken sheets, styles and shared strings)."""
    original = originals["excel"]
    assert isinstance(original, bytes)
    path = tmp_path / "k.xlsx"
    if data.draw(st.booleans()):
        path.write_bytes(data.draw(st.one_of(mutated(original), RANDOM)))
    else:
        with zipfile.ZipFile(io.BytesIO(original)) as source:
            parts = {info.filename: source.read(info) for info in source.infolist()}
        victim = data.draw(st.sampled_from(sorted(parts)))
        parts[victim] = data.draw(mutated(parts[victim]))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for name, content in parts.items():
                target.writestr(name, content)
        path.write_bytes(buffer.getvalue())
    loads_or_refuses(path)
