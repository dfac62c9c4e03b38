"""bench:loader's baseline: Spark Structured Streaming, the job a user would otherwise run.

Reads one Kafka topic from its start to its end (trigger availableNow), maps each
event's JSON to the warehouse's main columns and writes zstd Parquet partitioned by
dt/hour of receivedAt: what the loader does, less its dedup, dead letters, catalog
and rollups. Prints one JSON line: rows written, seconds (session start included and
the query alone), the JVM's CPU seconds and peak RSS.

    python kafka-to-parquet.py BOOTSTRAP TOPIC OUT_DIR CHECKPOINT_DIR JARS
"""
import json
import os
import resource
import sys
import time

started = time.perf_counter()
from pyspark.sql import SparkSession  # noqa: E402  (the import starts nothing; timed from here)
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

bootstrap, topic, out, checkpoint, jars = sys.argv[1:6]

spark = (
    SparkSession.builder.master("local[2]")
    .appName("bench-loader-spark-baseline")
    .config("spark.jars", jars)
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.memory", "1g")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.session.timeZone", "UTC")
    # Spark 3 writes INT96 timestamps otherwise.
    .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    .config("spark.sql.parquet.compression.codec", "zstd")
    .config("spark.sql.shuffle.partitions", "2")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
session_ready = time.perf_counter()

S = T.StringType()
page = T.StructType([T.StructField(n, S) for n in ("path", "url", "title", "referrer")])
campaign = T.StructType([T.StructField(n, S) for n in ("source", "medium", "name")])
user_agent = T.StructType([T.StructField(n, S) for n in ("browser", "os", "device")])
schema = T.StructType(
    [T.StructField(n, S) for n in ("messageId", "projectId", "type", "event", "name", "userId", "anonymousId")]
    + [T.StructField(n, S) for n in ("timestamp", "sentAt", "receivedAt")]
    + [
        T.StructField(
            "context",
            T.StructType(
                [T.StructField("page", page), T.StructField("campaign", campaign), T.StructField("sessionId", S)]
            ),
        ),
        T.StructField(
            "enrichment",
            T.StructType(
                [
                    T.StructField("ipHash", S),
                    T.StructField("country", S),
                    T.StructField("userAgent", user_agent),
                ]
            ),
        ),
        # A StringType field gets a nested object's JSON text, as the loader keeps it.
        T.StructField("properties", S),
        T.StructField("traits", S),
    ]
)

raw = (
    spark.readStream.format("kafka")
    .option("kafka.bootstrap.servers", bootstrap)
    .option("subscribe", topic)
    .option("startingOffsets", "earliest")
    .load()
)
value = F.col("value").cast("string")
e = F.from_json(value, schema).alias("e")
ts = lambda c: F.to_timestamp(F.col(c))  # noqa: E731
rows = (
    raw.select(e, F.get_json_object(value, "$.context").alias("context"))
    .select(
        F.col("e.messageId").alias("message_id"),
        F.col("e.projectId").alias("project_id"),
        F.col("e.type").alias("type"),
        F.col("e.event").alias("event"),
        F.col("e.userId").alias("user_id"),
        F.col("e.anonymousId").alias("anonymous_id"),
        F.coalesce(F.col("e.userId"), F.col("e.anonymousId")).alias("visitor_id"),
        F.col("e.context.sessionId").alias("session_id"),
        ts("e.timestamp").alias("event_time"),
        ts("e.receivedAt").alias("received_at"),
        ts("e.sentAt").alias("sent_at"),
        F.col("e.context.page.path").alias("page_path"),
        F.col("e.context.page.url").alias("page_url"),
        F.col("e.context.page.title").alias("page_title"),
        F.col("e.context.page.referrer").alias("referrer"),
        F.col("e.context.campaign.source").alias("utm_source"),
        F.col("e.context.campaign.medium").alias("utm_medium"),
        F.col("e.context.campaign.name").alias("utm_campaign"),
        F.col("e.enrichment.country").alias("country"),
        F.col("e.enrichment.userAgent.browser").alias("browser"),
        F.col("e.enrichment.userAgent.os").alias("os"),
        F.col("e.enrichment.userAgent.device").alias("device"),
        F.col("e.enrichment.ipHash").alias("ip_hash"),
        F.col("e.properties").alias("properties"),
        F.col("e.traits").alias("traits"),
        F.col("context"),
        F.col("e.name").alias("name"),
    )
    .withColumn("dt", F.date_format("received_at", "yyyy-MM-dd"))
    .withColumn("hour", F.date_format("received_at", "HH"))
)
query = (
    rows.writeStream.format("parquet")
    .option("path", out)
    .option("checkpointLocation", checkpoint)
    .partitionBy("dt", "hour")
    .trigger(availableNow=True)
    .start()
)
query.awaitTermination()
finished = time.perf_counter()

# The JVM does the work: its CPU time and peak RSS, read before it stops.
jvm = spark.sparkContext._gateway.proc.pid
with open(f"/proc/{jvm}/stat") as f:
    fields = f.read().rsplit(")", 1)[1].split()
jvm_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
with open(f"/proc/{jvm}/status") as f:
    hwm_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
own = resource.getrusage(resource.RUSAGE_SELF)

written = spark.read.parquet(out).count()
files, size = 0, 0
for root, _, names in os.walk(out):
    for name in names:
        if name.endswith(".parquet"):
            files += 1
            size += os.path.getsize(os.path.join(root, name))
spark.stop()
print(
    json.dumps(
        {
            "rows": written,
            "seconds": finished - started,
            "querySeconds": finished - session_ready,
            "sessionSeconds": session_ready - started,
            "cpuSeconds": jvm_cpu + own.ru_utime + own.ru_stime,
            "maxRssMb": hwm_kb / 1024,
            "files": files,
            "bytes": size,
        }
    )
)
