"""The one Glue job script of the pipelines at rest (Glue 5.0, Spark 3.5).

It only loads sources into views and writes results: the logic is in the SQL files, written in the
subset Spark SQL and DuckDB share (docs/etl.md) and run here unchanged; tooling/etl/engine.ts runs
the same files with DuckDB, the same way, in `npm run etl` and the tests.

Producer (--mode producer): the source as a view whose scalar columns are all text (--source), the
transform's SQL as the view `checked`, then runtime/glue/publish.sql with `etl_window` (the last
--lookback_hours up to the run's start) and `existing_ids` (event ids already in the product or its
quarantine); the result must have exactly --columns; rows without a quarantine_reason are appended
to --output_path partitioned by --partition_by (and the partitions added to the catalog table),
the others to --quarantine_path; QuarantinedRows and RowsWritten go to CloudWatch.

Merge (--mode merge): each --views entry (a table read through a resource link) as a view, each
--sql_files dataset's SQL written whole as CSV with a header under --datasets_path<dataset>/.
"""

import json
import sys
from datetime import datetime, timedelta, timezone

import boto3
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType

COMMON = ["JOB_NAME", "mode", "metric_namespace"]
args = getResolvedOptions(sys.argv, COMMON)
mode = args["mode"]
args.update(
    getResolvedOptions(
        sys.argv,
        COMMON
        + (
            ["views", "sql_files", "datasets_path"]
            if mode == "merge"
            else [
                "product",
                "source",
                "sql_file",
                "publish_sql",
                "columns",
                "partition_by",
                "output_path",
                "quarantine_path",
                "catalog_database",
                "catalog_table",
                "lookback_hours",
            ]
        ),
    )
)

glue_context = GlueContext(SparkContext.getOrCreate())
spark = glue_context.spark_session
spark.conf.set("spark.sql.session.timeZone", "UTC")
job = Job(glue_context)
job.init(args["JOB_NAME"], args)
s3 = boto3.client("s3")


def read_text(uri):
    bucket, key = uri[len("s3://") :].split("/", 1)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def as_text(frame):
    """Every scalar column as text (lists stay arrays): the SQL owns the types."""
    return frame.select(
        [
            F.col(f.name) if isinstance(f.dataType, ArrayType) else F.col(f.name).cast("string").alias(f.name)
            for f in frame.schema.fields
        ]
    )


def load_source(source, window_start):
    kind = source["kind"]
    if kind == "jdbc":
        frame = glue_context.create_dynamic_frame.from_options(
            connection_type=source["engine"],
            connection_options={
                "useConnectionProperties": "true",
                "connectionName": source["connection"],
                "dbtable": source["table"],
            },
        ).toDF()
    elif kind == "dynamodb-export":
        # A point-in-time export to S3 (needs point-in-time recovery): no read capacity consumed.
        frame = (
            glue_context.create_dynamic_frame.from_options(
                connection_type="dynamodb",
                connection_options={
                    "dynamodb.export": "ddb",
                    "dynamodb.tableArn": source["table_arn"],
                    "dynamodb.s3.bucket": source["export_bucket"],
                    "dynamodb.s3.prefix": source["export_prefix"],
                    "dynamodb.s3.bucketOwner": source["export_bucket_owner"],
                    "dynamodb.unnestDDBJson": True,
                },
            )
            .resolveChoice(choice="cast:string")
            .toDF()
        )
    elif kind == "parquet":
        frame = (
            spark.read.option("basePath", source["path"])
            .parquet(source["path"])
            # Partition pruning: only the landing days the window can hold (a day early for late events).
            .where(F.col("event_date") >= (window_start - timedelta(days=1)).strftime("%Y-%m-%d"))
            .drop("event_date")
        )
    else:
        raise ValueError(f"--source kind {kind} is not jdbc, dynamodb-export or parquet")
    as_text(frame).createOrReplaceTempView(source["view"])


def event_ids(path):
    try:
        return spark.read.parquet(path).select("event_id")
    except Exception as error:  # AnalysisException: nothing written there yet
        if "PATH_NOT_FOUND" in str(error) or "Path does not exist" in str(error):
            return None
        raise


def put_metrics(product, written, quarantined):
    boto3.client("cloudwatch").put_metric_data(
        Namespace=args["metric_namespace"],
        MetricData=[
            {"MetricName": name, "Dimensions": [{"Name": "Product", "Value": product}], "Value": value, "Unit": "Count"}
            for name, value in (("RowsWritten", written), ("QuarantinedRows", quarantined))
        ],
    )


def run_producer():
    window_end = datetime.now(timezone.utc).replace(second=0, microsecond=0, tzinfo=None)
    window_start = window_end - timedelta(hours=int(args["lookback_hours"]))
    load_source(json.loads(args["source"]), window_start)
    spark.createDataFrame([(window_start, window_end)], "window_start timestamp, window_end timestamp").createOrReplaceTempView(
        "etl_window"
    )
    seen = [ids for ids in (event_ids(args["output_path"]), event_ids(args["quarantine_path"])) if ids is not None]
    existing = seen[0].unionByName(seen[1]) if len(seen) == 2 else seen[0] if seen else spark.createDataFrame([], "event_id string")
    existing.createOrReplaceTempView("existing_ids")

    spark.sql(read_text(args["sql_file"])).createOrReplaceTempView("checked")
    result = spark.sql(read_text(args["publish_sql"])).cache()
    expected = [tuple(column.split(":", 1)) for column in json.loads(args["columns"])] + [("quarantine_reason", "string")]
    actual = [(f.name, f.dataType.simpleString()) for f in result.schema.fields]
    if actual != expected:
        raise ValueError(f"{args['sql_file']}: the result's columns are {actual}, but {args['product']}'s table needs {expected}")

    partitions = json.loads(args["partition_by"])
    rows = result.where("quarantine_reason IS NULL").drop("quarantine_reason")
    quarantine = result.where("quarantine_reason IS NOT NULL")
    written, quarantined = rows.count(), quarantine.count()
    if written:
        sink = glue_context.getSink(
            connection_type="s3",
            path=args["output_path"],
            enableUpdateCatalog=True,
            updateBehavior="LOG",  # add partitions; the table's schema is the contract's, never the job's
            partitionKeys=partitions,
        )
        sink.setFormat("glueparquet", compression="snappy")
        sink.setCatalogInfo(catalogDatabase=args["catalog_database"], catalogTableName=args["catalog_table"])
        sink.writeFrame(glue_context.create_dynamic_frame.from_df(rows, glue_context, "rows"))
    if quarantined:
        quarantine.withColumn("run_date", F.lit(window_end.strftime("%Y-%m-%d"))).write.mode("append").partitionBy(
            "run_date"
        ).parquet(args["quarantine_path"])
    put_metrics(args["product"], written, quarantined)
    print(f"{args['product']}: {written} rows written, {quarantined} quarantined, window {window_start}..{window_end}")


def run_merge():
    for view in json.loads(args["views"]):
        glue_context.create_data_frame.from_catalog(
            database=view["database"], table_name=view["table"]
        ).createOrReplaceTempView(view["view"])
    for dataset, uri in json.loads(args["sql_files"]).items():
        frame = spark.sql(read_text(uri))
        # One file per dataset, replaced whole: the training pipeline imports it in FULL mode.
        frame.coalesce(1).write.mode("overwrite").option("header", True).csv(f"{args['datasets_path']}{dataset}/")
        print(f"{dataset}: {frame.count()} rows")


if mode == "merge":
    run_merge()
elif mode == "producer":
    run_producer()
else:
    raise ValueError(f"--mode {mode} is not producer or merge")
job.commit()
