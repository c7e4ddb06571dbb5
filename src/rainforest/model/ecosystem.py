"""The :class:`Ecosystem`: one immutable industrial ecosystem for one reference period."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import numpy as np

from rainforest.errors import UnknownIdError
from rainforest.model.entities import (
    ENTITY_TYPES,
    Actor,
    Capability,
    Essentiality,
    Flow,
    Link,
    Module,
    Need,
    Offer,
    Resource,
    Stock,
    Virgin,
    entity_from_row,
    entity_to_record,
)
from rainforest.model.schema import FORMAT, SECTIONS
from rainforest.model.table import MISSING, FrozenMap, Table, _same, freeze, thaw

if TYPE_CHECKING:
    from rainforest.model.validation import RawDocument

__all__ = ["Ecosystem", "SectionView", "build_ecosystem"]

T = TypeVar("T")


class SectionView(Sequence[T], Generic[T]):
    """A read-only sequence of entities, built on demand from a section's columns."""

    __slots__ = ("_section", "_table")

    def __init__(self, section: str, table: Table) -> None:
        self._section = section
        self._table = table

    def __len__(self) -> int:
        return self._table.n

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._table.n))]
        n = self._table.n
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"{self._section}[{index}] is out of range; the section has {n} entries")
        result: T = entity_from_row(self._section, self._table, index)
        return result

    def __iter__(self) -> Iterator[T]:
        for i in range(self._table.n):
            yield entity_from_row(self._section, self._table, i)

    def __repr__(self) -> str:
        return f"<{self._table.n} {self._section}>"


def _empty_table(section: str) -> Table:
    spec = SECTIONS[section]
    cols: dict[str, Any] = {}
    for f in spec.fields:
        cols[f.name] = np.empty(0, dtype=np.float64 if f.kind == "number" else object)
    return Table(cols, 0)


class Ecosystem:
    """An industrial ecosystem: actors, resources and what flows between them.

    Immutable. Build one from entities (validated like a document: every problem is
    reported at once in a :class:`~rainforest.errors.DocumentError`), or load a document
    with :func:`rainforest.load`.

    Parameters
    ----------
    name:
        Display name.
    actors, resources, flows, offers, needs, modules, stocks, essentiality, virgin, links:
        Entities of each section (see docs/format.md).
    period:
        Reference period of every quantity: ``'year'`` (default), ``'month'`` or ``'day'``.
    extensions:
        Top-level ``x_*`` fields kept with the document.

    Examples
    --------
    >>> import rainforest as rf
    >>> eco = rf.Ecosystem(
    ...     name="two firms",
    ...     actors=[rf.Actor("mill"), rf.Actor("farm")],
    ...     resources=[rf.Resource("ash", kind="material", unit="t")],
    ...     flows=[rf.Flow("mill", "farm", "ash", 2.0, unit="kt")],
    ... )
    >>> eco.flows[0].quantity  # converted to the resource's unit
    2000.0
    >>> eco.actor("mil")
    Traceback (most recent call last):
    ...
    rainforest.errors.UnknownIdError: unknown actor 'mil'. Did you mean 'mill'?
    """

    __slots__ = ("_extensions", "_hash", "_index", "_tables", "name", "period")

    name: str
    period: str
    _tables: dict[str, Table]
    _extensions: FrozenMap
    _index: dict[str, dict[str, int]]
    _hash: str | None

    def __init__(
        self,
        name: str,
        actors: Iterable[Actor] = (),
        resources: Iterable[Resource] = (),
        flows: Iterable[Flow] = (),
        offers: Iterable[Offer] = (),
        needs: Iterable[Need] = (),
        modules: Iterable[Module] = (),
        stocks: Iterable[Stock] = (),
        essentiality: Iterable[Essentiality] = (),
        virgin: Iterable[Virgin] = (),
        links: Iterable[Link] = (),
        period: str = "year",
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        # validation is imported on first use: `import rainforest` stays about 13 ms faster
        from rainforest.model.validation import RawDocument, build_tables, records_to_section

        given = {
            "actors": actors,
            "resources": resources,
            "flows": flows,
            "offers": offers,
            "needs": needs,
            "modules": modules,
            "stocks": stocks,
            "essentiality": essentiality,
            "virgin": virgin,
            "links": links,
        }
        top: dict[str, Any] = {"format": FORMAT, "name": name, "period": period}
        top.update(extensions or {})
        sections = {}
        for section, items in given.items():
            entity_type = ENTITY_TYPES[section]
            records = []
            for i, item in enumerate(items):
                if not isinstance(item, entity_type):
                    raise TypeError(f"{section}[{i}]: expected a {entity_type.__name__}, got {type(item).__name__}")
                records.append(entity_to_record(section, item))
            if records or section == "actors":
                sections[section] = records_to_section(section, records)[0]
        doc = RawDocument(top=top, sections=sections, source="<Ecosystem>")
        name_, period_, ext, tables = build_tables(doc)
        self._init(name_, period_, tables, ext)

    def _init(self, name: str, period: str, tables: Mapping[str, Table], extensions: Mapping[str, Any]) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "period", period)
        full = {s: tables.get(s) or _empty_table(s) for s in SECTIONS}
        object.__setattr__(self, "_tables", full)
        object.__setattr__(self, "_extensions", FrozenMap({k: freeze(v) for k, v in extensions.items()}))
        object.__setattr__(self, "_index", {})
        object.__setattr__(self, "_hash", None)

    @classmethod
    def _from_tables(
        cls, name: str, period: str, tables: Mapping[str, Table], extensions: Mapping[str, Any]
    ) -> Ecosystem:
        """Wrap already validated tables (for readers; no checks)."""
        eco = cls.__new__(cls)
        eco._init(name, period, tables, extensions)
        return eco

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"Ecosystem is immutable; cannot set {key!r}. Build a new one instead.")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by its validated tables (process pools and Dask workers receive copies)."""
        return (Ecosystem._from_tables, (self.name, self.period, self._tables, self._extensions.to_dict()))

    # -- sections ---------------------------------------------------------------
    @property
    def actors(self) -> SectionView[Actor]:
        """The actors (species of the rainforest)."""
        return SectionView("actors", self._tables["actors"])

    @property
    def resources(self) -> SectionView[Resource]:
        """The declared resources."""
        return SectionView("resources", self._tables["resources"])

    @property
    def flows(self) -> SectionView[Flow]:
        """Realised exchanges, quantities in each resource's unit."""
        return SectionView("flows", self._tables["flows"])

    @property
    def offers(self) -> SectionView[Offer]:
        """Outputs available for new exchanges."""
        return SectionView("offers", self._tables["offers"])

    @property
    def needs(self) -> SectionView[Need]:
        """Inputs new exchanges could supply."""
        return SectionView("needs", self._tables["needs"])

    @property
    def modules(self) -> SectionView[Module]:
        """Platform value modules."""
        return SectionView("modules", self._tables["modules"])

    @property
    def stocks(self) -> SectionView[Stock]:
        """What actors hold."""
        return SectionView("stocks", self._tables["stocks"])

    @property
    def essentiality(self) -> SectionView[Essentiality]:
        """Production dependencies between sectors."""
        return SectionView("essentiality", self._tables["essentiality"])

    @property
    def virgin(self) -> SectionView[Virgin]:
        """Outside supply per resource."""
        return SectionView("virgin", self._tables["virgin"])

    @property
    def links(self) -> SectionView[Link]:
        """Exchanges that need an investment."""
        return SectionView("links", self._tables["links"])

    @property
    def extensions(self) -> FrozenMap:
        """Top-level ``x_*`` fields."""
        return self._extensions

    def table(self, section: str) -> Table:
        """The columns behind a section (for fast, vectorised analyses)."""
        try:
            return self._tables[section]
        except KeyError:
            raise UnknownIdError("section", section, SECTIONS) from None

    # -- lookups ------------------------------------------------------------------
    def _ids(self, section: str) -> dict[str, int]:
        index: dict[str, dict[str, int]] = self._index
        if section not in index:
            ids = self._tables[section]["id"].tolist()
            index[section] = {v: i for i, v in enumerate(ids)}
        return index[section]

    @property
    def actor_ids(self) -> tuple[str, ...]:
        """Actor ids in document order."""
        return tuple(self._tables["actors"]["id"].tolist())

    @property
    def resource_ids(self) -> tuple[str, ...]:
        """Resource ids in document order."""
        return tuple(self._tables["resources"]["id"].tolist())

    def _lookup(self, section: str, what: str, key: str) -> Any:
        ids = self._ids(section)
        if key not in ids:
            raise UnknownIdError(what, key, ids)
        return entity_from_row(section, self._tables[section], ids[key])

    def actor(self, actor_id: str) -> Actor:
        """The actor with id ``actor_id``; :class:`UnknownIdError` names the nearest ids."""
        result: Actor = self._lookup("actors", "actor", actor_id)
        return result

    def resource(self, resource_id: str) -> Resource:
        """The resource with id ``resource_id``."""
        result: Resource = self._lookup("resources", "resource", resource_id)
        return result

    def module(self, module_id: str) -> Module:
        """The platform module with id ``module_id``."""
        result: Module = self._lookup("modules", "module", module_id)
        return result

    def actor_index(self, actor_id: str) -> int:
        """Position of an actor in :attr:`actor_ids` (and in every flow matrix)."""
        ids = self._ids("actors")
        if actor_id not in ids:
            raise UnknownIdError("actor", actor_id, ids)
        return ids[actor_id]

    # -- edits ----------------------------------------------------------------------
    def actor_rows(self, actor: str) -> dict[str, list[dict[str, Any]]]:
        """``actor``'s rows as ``rainforest/1`` records (plain data), per section that holds
        an actor's rows: its record in ``actors``, its ``offers``, ``needs`` and ``stocks``,
        and the ``flows`` and ``links`` it is at one end of (see :meth:`replace_rows`, which
        takes them back).

        Examples
        --------
        >>> import rainforest as rf
        >>> eco = rf.datasets.kalundborg()
        >>> rows = eco.actor_rows("fish_farm")
        >>> rows["actors"], [(f["from"], f["to"]) for f in rows["flows"]][:2]
        ([{'id': 'fish_farm', ...}], [('asnaes', 'fish_farm'), ('fish_farm', 'farmers')])
        >>> again = eco.replace_rows("fish_farm", rows)  # the same rows, its flows moved last
        >>> sorted(map(repr, again.flows)) == sorted(map(repr, eco.flows))
        True
        """
        from rainforest.model.edits import ACTOR_SECTIONS, owned_rows  # validation on first use (import time)

        self.actor_index(actor)  # UnknownIdError with the nearest ids
        out: dict[str, list[dict[str, Any]]] = {}
        for section in ACTOR_SECTIONS:
            table = self._tables[section]
            out[section] = [
                thaw(entity_to_record(section, entity_from_row(section, table, int(i))))
                for i in np.flatnonzero(owned_rows(table, section, actor))
            ]
        return out

    def replace_rows(self, actor: str, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> Ecosystem:
        """The ecosystem with ``actor``'s rows of each section in ``rows`` replaced by the
        given ``rainforest/1`` records; every other row, and every section not in ``rows``,
        stays as it is.

        An actor's rows are its record in ``actors`` (give exactly one; its ``id`` may be
        left out), its ``offers``, ``needs`` and ``stocks`` (``actor`` may be left out) and
        the ``flows`` and ``links`` it is at one end of. An empty list removes them. The
        result is validated as a whole, like a document.

        Parameters
        ----------
        actor:
            The id of the actor whose rows are replaced.
        rows:
            Section name -> the actor's new records in it.

        Returns
        -------
        Ecosystem
            A new ecosystem (this one when ``rows`` is empty).

        Raises
        ------
        UnknownIdError
            When ``actor`` is not in the ecosystem, or a section name is unknown.
        ValueError
            When a section holds no actor's rows (``resources``, ``modules``...).
        DocumentError
            With every problem, placed in the submission (``actors[0].sector``,
            ``offers[1].quantity``): also when a record belongs to another actor or renames
            the actor.

        Examples
        --------
        >>> import rainforest as rf
        >>> eco = rf.datasets.kalundborg()
        >>> edited = eco.replace_rows("asnaes", {"offers": [{"resource": "fly_ash", "quantity": 5000}]})
        >>> [(o.actor, o.resource, o.quantity) for o in edited.offers]
        [('asnaes', 'fly_ash', 5000.0)]
        >>> eco.replace_rows("asnaes", {"resources": []})
        Traceback (most recent call last):
        ...
        ValueError: The sections of replace_rows must be among 'actors', ...
        """
        from rainforest.model.edits import replaced_tables  # validation on first use (import time)

        tables = replaced_tables(self, actor, rows)
        if tables is None:
            return self
        name, period, extensions, columns = tables
        return Ecosystem._from_tables(name, period, columns, extensions)

    def add_actor(self, record: Mapping[str, Any]) -> Ecosystem:
        """The ecosystem with one more actor, ``record`` as in a ``rainforest/1`` document
        (after the others).

        Raises
        ------
        DocumentError
            When the record is invalid or its id is taken (``actors[0].id``).

        Examples
        --------
        >>> import rainforest as rf
        >>> eco = rf.datasets.kalundborg().add_actor({"id": "bakery", "sector": "food"})
        >>> eco.actor_ids[-1], eco.actor("bakery").sector
        ('bakery', 'food')
        """
        from rainforest.model.edits import added_actor_tables  # validation on first use (import time)

        name, period, extensions, columns = added_actor_tables(self, record)
        return Ecosystem._from_tables(name, period, columns, extensions)

    def remove_actor(self, actor: str) -> Ecosystem:
        """The ecosystem without ``actor``: its record, offers, needs and stocks, and the
        flows and links it is at one end of.

        Raises
        ------
        UnknownIdError
            When ``actor`` is not in the ecosystem.
        DocumentError
            When a module names it (as provider or adopter), or it is the last actor.

        Examples
        --------
        >>> import rainforest as rf
        >>> eco = rf.datasets.kalundborg()
        >>> smaller = eco.remove_actor("fish_farm")
        >>> "fish_farm" in smaller.actor_ids, len(smaller.flows) < len(eco.flows)
        (False, True)
        """
        from rainforest.model.edits import removed_actor_tables  # validation on first use (import time)

        return Ecosystem._from_tables(*_ordered(removed_actor_tables(self, actor)))

    def add_resource(self, record: Mapping[str, Any]) -> Ecosystem:
        """The ecosystem with one more resource, ``record`` as in a ``rainforest/1`` document.

        Raises
        ------
        DocumentError
            When the record is invalid or its id is taken (``resources[0].unit``...).

        Examples
        --------
        >>> import rainforest as rf
        >>> eco = rf.datasets.kalundborg().add_resource({"id": "bark", "kind": "material", "unit": "t"})
        >>> eco.resource("bark").unit
        't'
        """
        from rainforest.model.edits import added_resource_tables  # validation on first use (import time)

        return Ecosystem._from_tables(*_ordered(added_resource_tables(self, record)))

    def replace_resource(self, resource: str, record: Mapping[str, Any]) -> Ecosystem:
        """The ecosystem with ``resource``'s record replaced by ``record`` (its ``id`` may be
        left out; it cannot change). Quantities stay as they are: they are in the resource's
        unit, so a new unit must measure the same thing (the checks convert row units).

        Raises
        ------
        UnknownIdError
            When ``resource`` is not in the ecosystem.
        DocumentError
            When the record is invalid or renames the resource.
        """
        from rainforest.model.edits import replaced_resource_tables  # validation on first use (import time)

        return Ecosystem._from_tables(*_ordered(replaced_resource_tables(self, resource, record)))

    def remove_resource(self, resource: str) -> Ecosystem:
        """The ecosystem without ``resource``, which nothing may name any more.

        Raises
        ------
        UnknownIdError
            When ``resource`` is not in the ecosystem.
        DocumentError
            When a flow, offer, need, stock, link, virgin supply or substitute names it
            (``got`` says how many of each).
        """
        from rainforest.model.edits import removed_resource_tables  # validation on first use (import time)

        return Ecosystem._from_tables(*_ordered(removed_resource_tables(self, resource)))

    # -- whole document -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The ``rainforest/1`` document as plain data (what JSON and YAML writers write).

        Values equal to a field's default (``status: active``, ``confidential: true``...)
        are left out.
        """
        out: dict[str, Any] = {"format": FORMAT, "name": self.name}
        if self.period != "year":
            out["period"] = self.period
        for section, spec in SECTIONS.items():
            table = self._tables[section]
            if table.n == 0:
                continue
            defaults = {f.name: f.default for f in spec.fields if f.default is not None}
            records = []
            for item in SectionView[Any](section, table):
                record = entity_to_record(section, item)
                for key, default in defaults.items():
                    if record.get(key) == default:
                        del record[key]
                records.append(thaw(record))
            out[section] = records
        for key, value in self._extensions.items():
            out[key] = thaw(value)
        return out

    def content_hash(self) -> str:
        """SHA-256 of the document's canonical JSON: per section, its columns (sorted by name,
        columns with no value left out) as JSON lists, plus the name, period and extensions.
        Equal ecosystems (``==``) have equal hashes, whichever form they were read from; it is
        computed column by column (about 0.1 s for 100,000 flows)."""
        if self._hash is None:
            canonical: dict[str, Any] = {"format": FORMAT, "name": self.name, "period": self.period}
            canonical["extensions"] = dict(self._extensions)
            for section in SECTIONS:
                table = self._tables[section]
                if table.n == 0:
                    continue
                columns: dict[str, str] = {}
                for name in sorted(table.names):
                    col = table[name]
                    if col.dtype.kind == "f":
                        if bool(np.isnan(col).all()):
                            continue
                    elif all(v is None or v is MISSING for v in col.tolist()):
                        continue
                    columns[name] = json.dumps(
                        col.tolist(), sort_keys=True, default=_canonical, ensure_ascii=False, allow_nan=True
                    )
                canonical[section] = columns
            text = json.dumps(canonical, sort_keys=True, default=_canonical, ensure_ascii=False, allow_nan=True)
            object.__setattr__(self, "_hash", hashlib.sha256(text.encode()).hexdigest())
        assert self._hash is not None
        return self._hash

    def summary(self) -> dict[str, Any]:
        """Counts per section, resources per kind and currency, actors per stratum."""
        counts = {s: self._tables[s].n for s in SECTIONS}
        res = self._tables["resources"]
        kinds: dict[str, int] = {}
        for k in res["kind"].tolist():
            kinds[k] = kinds.get(k, 0) + 1
        units_by_kind: dict[str, list[str]] = {}
        for k, u in zip(res["kind"].tolist(), res["unit"].tolist(), strict=True):
            bucket = units_by_kind.setdefault(k, [])
            if u not in bucket:
                bucket.append(u)
        strata: dict[str, int] = {}
        for s in self._tables["actors"]["stratum"].tolist():
            key = s if s is not None else "unknown"
            strata[key] = strata.get(key, 0) + 1
        status: dict[str, int] = {}
        for s in self._tables["flows"]["status"].tolist():
            status[s] = status.get(s, 0) + 1
        return {
            "name": self.name,
            "period": self.period,
            "counts": counts,
            "resource_kinds": kinds,
            "units_by_kind": units_by_kind,
            "strata": strata,
            "flow_status": status,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ecosystem):
            return NotImplemented
        return (
            self.name == other.name
            and self.period == other.period
            and self._extensions == other._extensions
            and all(self._tables[s] == other._tables[s] for s in SECTIONS)
        )

    def differences(self, other: Ecosystem, limit: int = 20) -> list[str]:
        """What differs between two ecosystems, as short lines (empty when equal)."""
        out: list[str] = []
        if self.name != other.name:
            out.append(f"name: {self.name!r} != {other.name!r}")
        if self.period != other.period:
            out.append(f"period: {self.period!r} != {other.period!r}")
        if self._extensions != other._extensions:
            out.append(f"extensions: {dict(self._extensions)!r} != {dict(other._extensions)!r}")
        for section in SECTIONS:
            a, b = self._tables[section], other._tables[section]
            if a.n != b.n:
                out.append(f"{section}: {a.n} entries != {b.n}")
                continue
            for name in sorted(set(a.names) | set(b.names)):
                if name not in a or name not in b:
                    out.append(f"{section}.{name}: column only on one side")
                    continue
                for i, (x, y) in enumerate(zip(a[name].tolist(), b[name].tolist(), strict=True)):
                    if not _same(x, y):
                        out.append(f"{section}[{i}].{name}: {x!r} != {y!r}")
                        break
        return out[:limit]

    def __hash__(self) -> int:
        return hash(self.content_hash())

    def __repr__(self) -> str:
        parts = ", ".join(f"{self._tables[s].n} {s}" for s in ("actors", "resources", "flows"))
        extra = [
            f"{self._tables[s].n} {s}"
            for s in SECTIONS
            if s not in ("actors", "resources", "flows") and self._tables[s].n
        ]
        more = (", " + ", ".join(extra)) if extra else ""
        return f"<Ecosystem {self.name!r}: {parts}{more}>"


def _ordered(tables: tuple[str, str, dict[str, Any], dict[str, Table]]) -> tuple[Any, ...]:
    """:func:`build_tables`'s ``(name, period, extensions, tables)`` in the order
    :meth:`Ecosystem._from_tables` takes them."""
    name, period, extensions, columns = tables
    return name, period, columns, extensions


def build_ecosystem(doc: RawDocument) -> Ecosystem:
    """Validate a raw document (what a reader found) and return its :class:`Ecosystem`.

    Raises
    ------
    DocumentError
        With every issue the reader and the checks found (see
        :func:`rainforest.model.validation.build_tables`).
    """
    from rainforest.model.validation import build_tables  # on first use, as in Ecosystem()

    name, period, extensions, tables = build_tables(doc)
    return Ecosystem._from_tables(name=name, period=period, tables=tables, extensions=extensions)


def _canonical(value: Any) -> Any:
    """JSON for the values a column holds besides text, numbers and tuples."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Capability):
        return [value.name, value.core]
    if value is MISSING:
        return {"\u0000": "absent"}
    raise TypeError(f"no canonical form for {type(value).__name__}")
