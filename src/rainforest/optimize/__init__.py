"""Optimisation of the resource-recycling pathway: targets and fair gain sharing."""
