/**
 * @module bench:loader's Spark baseline (`--spark`): Spark Structured Streaming, the tool a
 * user would otherwise pick, reading the bench's topic into Parquet partitioned by dt/hour
 * (test/bench/spark/kafka-to-parquet.py) in the same run as the loader.
 *
 * Set up on first use, in the cache like the servers' jars: a Python venv with PyPI's
 * `pyspark` and, through Maven, the Kafka source pyspark lacks (test/infra/spark-kafka/pom.xml).
 * Needs python3 with venv and a JDK 17 on the PATH.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testSettings } from '../../loader/fixtures/loader-harness.ts';
import { cacheDir } from '../infra/cache-dir.ts';
import { withFileLock } from '../infra/file-lock.ts';
import { fetchJars } from '../infra/maven.ts';
import { readStackEnv } from '../infra/stack-env.ts';

/** pyspark 3.5.7 with Scala 2.12: the newest 3.5 whose Kafka source Maven Central has. */
export const SPARK_VERSION = '3.5.7';

/** How many columns the Spark job writes (test/bench/spark/kafka-to-parquet.py), for the bytes line. */
export const SPARK_COLUMNS = 27;

/** The jars of the Kafka source that pyspark does not ship (the rest it has, at its own versions). */
const KAFKA_SOURCE_JARS = ['spark-sql-kafka', 'spark-token-provider-kafka', 'kafka-clients', 'commons-pool2'];

const script = join(dirname(fileURLToPath(import.meta.url)), 'spark', 'kafka-to-parquet.py');

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${err.slice(-4000)}`)),
    );
  });
}

/** The venv's python, with pyspark installed once (about 320 MB from PyPI). */
async function sparkPython(): Promise<string> {
  const venv = join(cacheDir(), 'spark', `venv-${SPARK_VERSION}`);
  const python = join(venv, 'bin', 'python');
  const complete = join(venv, '.complete');
  if (existsSync(complete)) return python;
  return withFileLock(`${venv}.lock`, { timeoutMs: 20 * 60_000 }, async () => {
    if (existsSync(complete)) return python;
    console.log(`[spark] installing pyspark==${SPARK_VERSION} into ${venv} (once)`);
    await rm(venv, { recursive: true, force: true });
    await run('python3', ['-m', 'venv', venv]);
    await run(python, ['-m', 'pip', 'install', '-q', `pyspark==${SPARK_VERSION}`]);
    await writeFile(complete, new Date().toISOString());
    return python;
  });
}

export interface SparkRun {
  phase: string;
  events: number;
  /** The streaming query alone, from a ready session to the end of the last batch. */
  seconds: number;
  cpuSeconds: number;
  maxRssMb: number;
  extra: { totalSeconds: number; sessionSeconds: number; files: number; bytes: number };
}

/** Spark on the bench's topic (`id`'s): fails unless it wrote `count` rows. */
export async function sparkBaseline(options: { id: string; count: number; dir: string }): Promise<SparkRun> {
  const python = await sparkPython();
  const lib = await fetchJars('spark-kafka');
  const jars = (await readdir(lib))
    .filter((name) => KAFKA_SOURCE_JARS.some((prefix) => name.startsWith(prefix)))
    .map((name) => join(lib, name));
  const out = join(options.dir, 'spark-out');
  const checkpoint = join(options.dir, 'spark-checkpoint');
  console.log(`[spark] Structured Streaming ${SPARK_VERSION}, local[2], on the same topic`);
  const stdout = await run(
    python,
    [script, readStackEnv().KAFKA_BROKERS, testSettings(options.id).topic, out, checkpoint, jars.join(',')],
    { ...process.env, SPARK_LOCAL_IP: '127.0.0.1', PYSPARK_PYTHON: python },
  );
  const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    rows: number;
    seconds: number;
    querySeconds: number;
    sessionSeconds: number;
    cpuSeconds: number;
    maxRssMb: number;
    files: number;
    bytes: number;
  };
  if (r.rows !== options.count) throw new Error(`Spark wrote ${r.rows} rows, not ${options.count}`);
  await rm(out, { recursive: true, force: true });
  return {
    phase: 'spark',
    events: r.rows,
    seconds: r.querySeconds,
    cpuSeconds: r.cpuSeconds,
    maxRssMb: r.maxRssMb,
    extra: { totalSeconds: r.seconds, sessionSeconds: r.sessionSeconds, files: r.files, bytes: r.bytes },
  };
}
