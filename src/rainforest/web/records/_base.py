"""What the workbench's repositories share: the clock, names, and the ecosystem row."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from sqlalchemy import select

from rainforest.errors import UnknownIdError
from rainforest.store.tables import EcosystemRow

#: User names and actor ids a firm registers with: like an ecosystem's name.
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def ecosystem_row(conn: Any, slug: str) -> Any:
    """The ecosystem's row (id, slug, name, head); :class:`UnknownIdError` when there is none."""
    row = conn.execute(select(EcosystemRow.__table__).where(EcosystemRow.slug == slug)).first()
    if row is None:
        known = [r.slug for r in conn.execute(select(EcosystemRow.__table__.c.slug)).all()]
        raise UnknownIdError("ecosystem", slug, known)
    return row
