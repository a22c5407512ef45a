"""Replica -> warehouse extract: the plain-Python core and the Airflow operator around it."""

from dataacuity.extract.core import (
    BatchResult,
    ExtractError,
    ExtractSummary,
    NotAReplicaError,
    SchemaDriftError,
    extract_table,
)

__all__ = [
    "BatchResult",
    "ExtractError",
    "ExtractSummary",
    "NotAReplicaError",
    "SchemaDriftError",
    "extract_table",
]
