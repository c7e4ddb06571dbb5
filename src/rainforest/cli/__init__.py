"""The ``rainforest`` command: a thin shell over the public API.

Errors are translated here, not in the library: a bad document prints every issue and
exits 2; a failed analysis exits 1; ``--debug`` shows the traceback.
"""

from __future__ import annotations

from rainforest.cli import (
    mrio,  # noqa: F401  (registers `rainforest io`)
    networks,  # noqa: F401  (registers `rainforest networks`)
)
from rainforest.cli.app import app, main

__all__ = ["app", "main"]
