"""The words a parameter may take: one ``Literal`` type per vocabulary.

A parameter that takes one of a few words is typed with one of these types, in the
library and in its shells alike:

- the library checks the value with :func:`rainforest.errors.check_choice`, whose
  :class:`~rainforest.errors.ParameterError` lists the choices from the type itself;
- the CLI types its options with the same types, so Typer lists the choices in
  ``--help`` and refuses any other word before a command runs;
- a web form or JSON body can take its choices from :func:`rainforest.errors.choices_of`.

This module imports nothing but :mod:`typing` and the model's ``Currency`` (cheap to
import), so a shell can use the types without loading the analyses. The analysis modules
re-export the types under their own names (``rainforest.analysis.cascade.Stop`` is
:data:`CascadeStop`).

>>> from rainforest.errors import choices_of
>>> choices_of(Objective)
('benefit', 'virgin', 'co2e')
"""

from __future__ import annotations

from typing import Literal

from rainforest.errors import Interface
from rainforest.model.flowmatrix import Currency

__all__ = [
    "BalanceMethod",
    "CascadeDamping",
    "CascadeEngine",
    "CascadeStop",
    "Currency",
    "Form",
    "Formulation",
    "GameKind",
    "IOMethod",
    "Interface",
    "MRIOMethod",
    "MergerGuidelines",
    "NetworkModel",
    "Objective",
    "PlatformPart",
    "SankeyBy",
    "ShareMethod",
    "TargetMethod",
]

#: Document forms rainforest reads and writes (:func:`rainforest.load`, :func:`rainforest.save`).
Form = Literal["yaml", "json", "csv", "excel", "ena-model", "scor", "graphml", "gexf"]

#: How :func:`rainforest.analysis.ena.balance` brings a model to steady state.
BalanceMethod = Literal["input", "output", "boundary"]

#: When the failure cascade stops (:func:`rainforest.analysis.cascade.esri`).
CascadeStop = Literal["fixed-point", "reference"]
#: Which engine runs the failure cascades.
CascadeEngine = Literal["auto", "compiled", "numpy"]
#: How revenues, costs and outside trade damp the failure cascade.
CascadeDamping = Literal["reference", "outside-trade", "none"]

#: How the Leontief system of an actor-level IO table is solved.
IOMethod = Literal["auto", "lu", "iterative"]
#: How the Leontief system of a multi-regional IO system is solved.
MRIOMethod = Literal["auto", "lu", "regional"]

#: How :func:`rainforest.analysis.metabolism.sankey` groups its links.
SankeyBy = Literal["resource", "kind", "stratum"]

#: What an exchange plan optimises (:func:`rainforest.optimize.exchanges.plan`).
Objective = Literal["benefit", "virgin", "co2e"]
#: How the exchange MILP bounds exchanges on a link.
Formulation = Literal["tight", "big-m"]
#: How a plan's gain is split among its participants.
ShareMethod = Literal["shapley", "nucleolus"]
#: Whether a cooperative game's values are profits (shared) or costs (borne).
GameKind = Literal["profit", "cost"]

#: How :func:`rainforest.optimize.targeting.target` finds the targets.
TargetMethod = Literal["cascade", "lp"]

#: Which random-graph model ``rainforest networks giant`` computes for.
NetworkModel = Literal["er", "coupled-er"]

#: Which DOJ/FTC Merger Guidelines name the HHI bands (:mod:`rainforest.analysis.platform`).
MergerGuidelines = Literal["2023-merger", "2010-horizontal"]
#: Which table :meth:`rainforest.analysis.platform.PlatformAnalysis.to_frame` returns.
PlatformPart = Literal["reach", "adoptions", "kinds", "keystone"]
