/**
 * prod.example.json runs each deployable alone on the real stack: the edge
 * (`edge/node.ts`) accepts an event into Kafka, `loader/cli.ts run` loads it
 * to Parquet on s3proxy and registers it in HiveServer2, and insights
 * (`insights/node.ts`) counts it through HiveServer2. The file is used as
 * shipped but for this run's own names (topic, prefix, tables, group, ports,
 * data directory, a project with known keys) and the stack's endpoints, which
 * its variables set. A healthy start and run log no error-level line: an
 * operator's alert on `level >= 50` must mean something is wrong.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { printServerLogsOnFailure } from '../infra/server-logs.ts';
import { readStackEnv } from '../infra/stack-env.ts';
import { e2eTables, freePort, removeDir, tempDataDir, uniqueSuffix } from './one-machine-fixture.ts';
import { removeStackRun } from './real-stack-fixture.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const PROJECT = {
  id: 'prod-run',
  name: 'prod.example.json run',
  writeKeys: ['wk_prodrun_0123456789abcdef'],
  readKeys: ['rk_prodrun_0123456789abcdef0123'],
};

printServerLogsOnFailure(['kafka', 's3', 'hive']);

/** The stack's endpoints by the file's variables; nothing else of the test's environment. */
function stackEnv(): NodeJS.ProcessEnv {
  const stack = readStackEnv();
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(BEACON_|EDGE_|LOADER_|INSIGHTS_|KAFKA_|S3_|HIVE_|LOG_LEVEL)/.test(k),
    ),
  );
  return { ...base, ...Object.fromEntries(Object.entries(stack).map(([k, v]) => [k, String(v)])) };
}

interface Service {
  child: ChildProcess;
  output: () => string;
}

function startService(script: string, args: string[], cwd: string): Service {
  const child = spawn(process.execPath, [join(ROOT, script), ...args], { cwd, env: stackEnv() });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  return { child, output: () => output };
}

async function waitUntilUp(url: string, service: Service): Promise<void> {
  for (;;) {
    if (service.child.exitCode !== null) throw new Error(`exited early:\n${service.output()}`);
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function stop(service: Service): Promise<void> {
  if (service.child.exitCode !== null) return;
  const exited = new Promise((resolve) => service.child.once('exit', resolve));
  service.child.kill('SIGTERM');
  await exited;
}

/** JSON log lines at error level or above (pino: 50 error, 60 fatal). */
function errorLines(output: string): string[] {
  return output.split('\n').filter((line) => /"level":(5|6)\d/.test(line));
}

describe('prod.example.json drives each deployable alone on the real stack', () => {
  const suffix = uniqueSuffix();
  const names = {
    topic: `prodrun-${suffix}`,
    prefix: `prodrun-${suffix}`,
    group: `prodrun-${suffix}`,
    tables: e2eTables('prodrun', suffix),
  };
  const services: Service[] = [];
  let dir = '';

  afterAll(async () => {
    for (const s of services) await stop(s);
    if (dir) await removeDir(dir);
    await removeStackRun(readStackEnv(), names);
  });

  it('edge accepts, loader loads, insights answers, and nothing logs an error', {
    timeout: 300_000,
  }, async () => {
    dir = await tempDataDir('prod-run');
    const prod = JSON.parse(await readFile(join(ROOT, 'prod.example.json'), 'utf8'));
    const [edgePort, insightsPort, controlPort] = [await freePort(), await freePort(), await freePort()];
    const config = {
      ...prod,
      dataDir: join(dir, 'data'),
      bus: { ...prod.bus, topic: names.topic, partitions: 2 },
      store: { ...prod.store, prefix: names.prefix },
      tables: names.tables,
      demoProject: false,
      projects: [PROJECT],
      edge: { ...prod.edge, port: edgePort },
      loader: { ...prod.loader, group: names.group, cron: 'off', jitterSeconds: 0 },
      // HiveServer2 runs MapReduce locally: on a busy 2-core machine one query can take a minute.
      insights: { ...prod.insights, port: insightsPort, queryTimeoutMs: 240_000 },
      control: { ...prod.control, port: controlPort },
    };
    const file = join(dir, 'prod.json');
    await writeFile(file, JSON.stringify(config));

    const edge = startService('edge/node.ts', ['--config', file], dir);
    services.push(edge);
    await waitUntilUp(`http://127.0.0.1:${edgePort}/readyz`, edge);
    const messageId = `prod-run-${suffix}`;
    const sent = await fetch(`http://127.0.0.1:${edgePort}/v1/track`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${PROJECT.writeKeys[0]}:`)}`,
        'content-type': 'application/json',
        // A person's browser: Node's own user agent ("node") is a bot's by the isbot list, and
        // bots are left out of every dashboard answer.
        'user-agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
      },
      body: JSON.stringify({ event: 'Prod Run', anonymousId: 'visitor-1', messageId }),
    });
    expect(sent.status, edge.output()).toBe(200);
    await stop(edge);

    const load = await run(process.execPath, [join(ROOT, 'loader/cli.ts'), '--config', file, 'run'], {
      cwd: dir,
      env: stackEnv(),
    });
    const loaderOutput = `${load.stdout}\n${load.stderr}`;
    expect(loaderOutput).toMatch(/"events":1\b/);
    // One summary line per load, not a line per step.
    expect(
      loaderOutput.split('\n').filter((l) => l.startsWith('{')).length,
      loaderOutput,
    ).toBeLessThanOrEqual(2);

    const insights = startService('insights/node.ts', ['--config', file], dir);
    services.push(insights);
    await waitUntilUp(`http://127.0.0.1:${insightsPort}/healthz`, insights);
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const top = await fetch(
      `http://127.0.0.1:${insightsPort}/v1/insights/top?dimension=event&from=${today}&to=${tomorrow}`,
      { headers: { authorization: `Bearer ${PROJECT.readKeys[0]}` } },
    );
    const body = await top.text();
    expect(top.status, body).toBe(200);
    expect(body).toContain('"Prod Run"');
    await stop(insights);

    // Nothing went to a local fallback, and no line said something was wrong.
    const status = await run(
      process.execPath,
      [join(ROOT, 'loader/cli.ts'), '--config', file, 'status', '--json'],
      { cwd: dir, env: stackEnv() },
    );
    expect(JSON.parse(status.stdout)).toMatchObject({ topic: names.topic, lag: 0 });
    expect(errorLines(edge.output())).toEqual([]);
    expect(errorLines(loaderOutput)).toEqual([]);
    expect(errorLines(insights.output())).toEqual([]);
    expect(errorLines(status.stderr)).toEqual([]);
  });
});
