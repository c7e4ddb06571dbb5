"""How the store keeps a version: encode and decode time and size of each candidate
encoding, against the zipped CSV form written through a temporary folder (``v1``, the
encoding before this measurement; the reference, measured in the same run).

Candidates, each in memory (no temporary files): the section cells the CSV form writes,
as Arrow tables (see ``rainforest/store/_encoding.py``), then

- ``ipc+zstd3``: Arrow IPC streams (texts dictionary-encoded), the whole payload compressed
  with zstd at level 3 (what the store writes);
- ``ipc+zstd9``: the same at level 9;
- ``ipc``: the same uncompressed;
- ``parquet``: one Parquet file per section (zstd), read back with pyarrow.

Decoding includes validating the ecosystem again (as the store does when it loads a
version), which every encoding pays alike. Documents: the bundled examples (Kalundborg, the park,
two ENA models) and synthetic
ecosystems (``rf.datasets.synthetic``) of 1,000 and 10,000 actors. Every decoded
ecosystem is checked equal to the original.

Usage::

    python bench/bench_store_encoding.py            # examples, 1,000 and 10,000 actors
    python bench/bench_store_encoding.py --small    # examples and 1,000 actors
    python bench/bench_store_encoding.py --repeat 5
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import rainforest as rf
from rainforest.store._encoding import (
    _decode_arrow,
    _decode_v1,
    _encode_arrow,
    _encode_v1,
    arrow_tables,
    ecosystem_from_arrow,
)


def _parquet_encode(eco: rf.Ecosystem) -> bytes:
    import json
    import struct

    found = arrow_tables(eco)
    assert found is not None
    top, tables = found
    parts: list[bytes] = []
    for table in tables.values():
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        parts.append(sink.getvalue())
    header = json.dumps({"top": top, "sections": [[s, len(b)] for s, b in zip(tables, parts, strict=True)]}).encode()
    return b"".join([struct.pack("<I", len(header)), header, *parts])


def _parquet_decode(blob: bytes, label: str) -> rf.Ecosystem:
    import json
    import struct

    (size,) = struct.unpack_from("<I", blob, 0)
    header = json.loads(blob[4 : 4 + size])
    at = 4 + size
    tables: dict[str, pa.Table] = {}
    for section, length in header["sections"]:
        tables[section] = pq.read_table(pa.BufferReader(blob[at : at + length]))
        at += length
    return ecosystem_from_arrow(header["top"], tables, label)


def _ipc(level: int | None) -> Callable[[rf.Ecosystem], bytes]:
    def encode(eco: rf.Ecosystem) -> bytes:
        blob = _encode_arrow(eco, level=level)
        assert blob is not None
        return blob

    return encode


ENCODINGS: dict[str, tuple[Callable[[rf.Ecosystem], bytes], Callable[[bytes, str], rf.Ecosystem]]] = {
    "v1 (zip of CSV)": (_encode_v1, _decode_v1),
    "ipc+zstd3": (_ipc(3), _decode_arrow),
    "ipc+zstd9": (_ipc(9), _decode_arrow),
    "ipc": (_ipc(None), _decode_arrow),
    "parquet": (_parquet_encode, _parquet_decode),
}


def _best(repeat: int, call: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="leave out the 10,000-actor ecosystem")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args()

    documents: list[tuple[str, rf.Ecosystem]] = [("kalundborg", rf.datasets.kalundborg())]
    documents += [(f"ena:{name}", rf.datasets.ena_model(name)) for name in rf.datasets.ENA_MODELS[:2]]
    documents.append(("park", rf.datasets.park()))
    sizes = [1_000] if args.small else [1_000, 10_000]
    for n in sizes:
        documents.append((f"synthetic {n:,}", rf.datasets.synthetic(n_actors=n, rng=1)))
    rf.model.units.registry()  # one-time costs outside the clock, for every encoding alike
    _decode_v1(_encode_v1(documents[0][1]), "warm-up")
    _decode_arrow(_ipc(3)(documents[0][1]), "warm-up")

    print(f"best of {args.repeat}; ratio = candidate / v1 in the same run (< 1 is better)")
    header = f"{'document':<18} {'flows':>8}  {'encoding':<16} {'encode s':>9} {'decode s':>9} {'bytes':>10}"
    print(header + f"  {'enc x':>6} {'dec x':>6} {'size x':>6}")
    totals: dict[str, list[float]] = {name: [0.0, 0.0, 0.0] for name in ENCODINGS}
    for label, eco in documents:
        reference: tuple[float, float, int] | None = None
        for name, (encode, decode) in ENCODINGS.items():
            t_enc, blob = _best(args.repeat, partial(encode, eco))
            t_dec, back = _best(args.repeat, partial(decode, blob, label))
            assert back == eco, f"{name} changed {label}: {back.differences(eco)}"
            size = len(blob)
            if reference is None:
                reference = (t_enc, t_dec, size)
            r_enc, r_dec, r_size = t_enc / reference[0], t_dec / reference[1], size / reference[2]
            totals[name][0] += t_enc
            totals[name][1] += t_dec
            totals[name][2] += size
            print(
                f"{label:<18} {len(eco.flows):>8,}  {name:<16} {t_enc:>9.4f} {t_dec:>9.4f} {size:>10,}"
                f"  {r_enc:>6.2f} {r_dec:>6.2f} {r_size:>6.2f}"
            )
    ref = totals["v1 (zip of CSV)"]
    print("\nall documents together (sum of times and bytes), ratio to v1:")
    for name, (enc, dec, nbytes) in totals.items():
        print(
            f"  {name:<16} encode {enc:8.3f} s ({enc / ref[0]:.2f}x)  decode {dec:8.3f} s ({dec / ref[1]:.2f}x)"
            f"  {int(nbytes):>11,} bytes ({nbytes / ref[2]:.2f}x)"
        )


if __name__ == "__main__":
    main()
