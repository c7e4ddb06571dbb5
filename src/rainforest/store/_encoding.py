"""How a version is kept in the database: one blob per version, read back through the
same checks as a document.

Three encodings have been written over time, and every one still decodes (the first bytes
tell them apart):

- ``RFARROW1`` (today): Arrow IPC in memory, no temporary files. After the marker, the
  payload's size, then the payload compressed with zstd (level 3): a JSON header (name,
  period, extensions; per section its name and byte length), then one Arrow IPC stream
  per section whose columns are the section's table cells (the CSV form's convention,
  :func:`rainforest.model.edits.section_cells`; texts dictionary-encoded). An uncompressed
  payload has size 0.
- ``PK`` (until this one): a zip of the CSV form written through a temporary folder
  (:func:`_encode_v1`).
- anything else (the first versions): zlib-compressed canonical JSON of the document.

``bench/bench_store_encoding.py`` measures these against each other.
"""

from __future__ import annotations

import io
import json
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from rainforest.io.tabular import read_csv_folder, write_csv_folder
from rainforest.io.text import parse_json, raw_from_data
from rainforest.model.ecosystem import Ecosystem, build_ecosystem
from rainforest.model.edits import cells_section, section_cells
from rainforest.model.schema import FORMAT, SECTIONS
from rainforest.model.table import Coded, thaw
from rainforest.model.validation import RawDocument

#: Fields whose cells validation reads dictionary-encoded (as the CSV reader gives them).
_TEXT_KINDS = frozenset({"slug", "text", "enum", "ref", "unit"})

#: The first bytes of each encoding.
ARROW_MAGIC = b"RFARROW1"
ZIP_MAGIC = b"PK\x03\x04"


def _encode(eco: Ecosystem) -> bytes:
    """The blob of a version: Arrow IPC (see the module's docstring), or the zipped CSV form
    for the rare ecosystem whose cells mix kinds of values in one column."""
    blob = _encode_arrow(eco)
    return blob if blob is not None else _encode_v1(eco)


def _decode(blob: bytes, label: str) -> Ecosystem:
    """The ecosystem of a blob written by any version of rainforest (validated again)."""
    if blob.startswith(ARROW_MAGIC):
        return _decode_arrow(blob, label)
    return _decode_v1(blob, label)


# -- Arrow IPC ----------------------------------------------------------------------------
def arrow_tables(eco: Ecosystem) -> tuple[dict[str, Any], dict[str, pa.Table]] | None:
    """The top-level fields and, per section with rows (and ``actors`` always), an Arrow
    table of its cells (texts dictionary-encoded: ids repeat); ``None`` when a column
    mixes kinds of values that Arrow would convert (a number beside a text)."""
    top: dict[str, Any] = {"name": eco.name, "period": eco.period, "extensions": thaw(dict(eco.extensions))}
    tables: dict[str, pa.Table] = {}
    for section, spec in SECTIONS.items():
        n = eco.table(section).n
        if n == 0 and section != "actors":
            continue
        numeric = {f.name for f in spec.fields if f.kind == "number"}
        number_maps = tuple(f"{f.name}." for f in spec.fields if f.kind == "map" and f.map_values == "number")
        arrays: dict[str, pa.Array] = {}
        for name, cells in section_cells(eco.table(section), section).items():
            number = name in numeric or name.startswith(number_maps)
            try:
                if number:
                    arrays[name] = pa.array(cells, type=pa.float64())
                else:
                    arrays[name] = pa.array(cells, type=pa.large_string()).dictionary_encode()
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                return None
            if number and any(type(v) not in (float, type(None)) for v in cells):
                return None  # an integer cell would come back a float
        tables[section] = pa.table(arrays) if arrays else pa.table({"id": pa.nulls(n, type=pa.large_string())})
    return top, tables


def ecosystem_from_arrow(top: dict[str, Any], tables: dict[str, pa.Table], label: str) -> Ecosystem:
    """The ecosystem of :func:`arrow_tables`'s output, validated as a document."""
    doc_top: dict[str, Any] = {"format": FORMAT, "name": top["name"]}
    if top["period"] != "year":
        doc_top["period"] = top["period"]
    doc_top.update(top["extensions"])
    doc = RawDocument(top=doc_top, sections={}, source=label)
    for section, table in tables.items():
        cells: dict[str, Any] = {}
        for name, chunked in zip(table.column_names, table.columns, strict=True):
            column = chunked.combine_chunks()
            if pa.types.is_floating(column.type):
                cells[name] = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
            elif pa.types.is_dictionary(column.type):  # texts: one Python string per distinct value
                distinct = column.dictionary.to_pylist()
                codes = np.asarray(column.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
                field = SECTIONS[section].by_name.get(name)
                if field is not None and field.kind in _TEXT_KINDS and "" not in distinct:
                    # as the CSV reader gives them: each distinct text is checked once
                    cells[name] = Coded(codes, np.array(distinct, dtype=object))
                else:
                    cells[name] = np.array([*distinct, None], dtype=object)[codes]
            else:
                cells[name] = column.to_pylist()
        doc.sections[section] = cells_section(section, cells, table.num_rows)
    return build_ecosystem(doc)


def _encode_arrow(eco: Ecosystem, level: int | None = 3) -> bytes | None:
    """``ARROW_MAGIC``, the payload's size (8 bytes), then the payload (zstd at ``level``;
    ``None``: as it is): the JSON header's size (4 bytes), the header, the IPC streams."""
    found = arrow_tables(eco)
    if found is None:
        return None
    top, tables = found
    streams: list[bytes] = []
    for table in tables.values():
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        streams.append(sink.getvalue().to_pybytes())
    header = {"top": top, "sections": [[s, len(b)] for s, b in zip(tables, streams, strict=True)]}
    text = json.dumps(header, ensure_ascii=False, allow_nan=True).encode("utf-8")
    payload = b"".join([struct.pack("<I", len(text)), text, *streams])
    packed = payload if level is None else pa.Codec("zstd", compression_level=level).compress(payload, asbytes=True)
    return b"".join([ARROW_MAGIC, struct.pack("<Q", len(payload) if level is not None else 0), packed])


def _decode_arrow(blob: bytes, label: str) -> Ecosystem:
    (size,) = struct.unpack_from("<Q", blob, len(ARROW_MAGIC))
    packed = blob[len(ARROW_MAGIC) + 8 :]
    payload = pa.Codec("zstd").decompress(packed, decompressed_size=size, asbytes=True) if size else packed
    (length,) = struct.unpack_from("<I", payload, 0)
    header = json.loads(payload[4 : 4 + length].decode("utf-8"))
    at = 4 + length
    tables: dict[str, pa.Table] = {}
    for section, nbytes in header["sections"]:
        with pa.ipc.open_stream(pa.py_buffer(payload[at : at + nbytes])) as reader:
            tables[section] = reader.read_all()
        at += nbytes
    return ecosystem_from_arrow(header["top"], tables, label)


# -- the encodings before -------------------------------------------------------------------
def _encode_v1(eco: Ecosystem) -> bytes:
    """A zip of the CSV form, written through a temporary folder (the encoding before Arrow IPC)."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="rainforest-") as tmp:
        folder = Path(tmp) / "document"
        write_csv_folder(eco, folder)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in sorted(folder.iterdir()):
                archive.write(path, path.name)
    return buffer.getvalue()


def _decode_v1(blob: bytes, label: str) -> Ecosystem:
    """The ecosystem of a zipped CSV form, or of zlib-compressed JSON (the first encoding)."""
    if blob.startswith(ZIP_MAGIC):
        with tempfile.TemporaryDirectory(prefix="rainforest-") as tmp:
            folder = Path(tmp) / label.replace("/", "_")
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                for name in archive.namelist():
                    (folder / Path(name).name).parent.mkdir(parents=True, exist_ok=True)
                    (folder / Path(name).name).write_bytes(archive.read(name))
            return build_ecosystem(read_csv_folder(folder))
    text = zlib.decompress(blob).decode("utf-8")
    data, issues, locate = parse_json(text, label)
    return build_ecosystem(raw_from_data(data, label, locate, issues))
