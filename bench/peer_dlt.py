"""Benchmark peer (e): dlt 1.31 sql_database with the connectorx backend, merge on the primary key.
Runs inside .bench-venv (bench/requirements-peer.txt); connection URLs come from the environment."""

import os

import dlt
from dlt.sources.sql_database import sql_table

table = sql_table(
    credentials=os.environ["SOURCE_URL"],
    table=os.environ["TABLE"],
    backend="connectorx",
    reflection_level="full_with_precision",
)
table.apply_hints(primary_key="id", write_disposition="merge")
pipeline = dlt.pipeline(
    pipeline_name="bench_dlt",
    destination=dlt.destinations.postgres(os.environ["DEST_URL"]),
    dataset_name="bench_dlt",
    pipelines_dir="/tmp/bench_dlt_pipelines",
)
info = pipeline.run(table)
print(info)
