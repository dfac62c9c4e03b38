/**
 * @module What the pipeline keeps in its data directory besides the data:
 * `keys.json` (the demo project's keys and the secrets the first run
 * generates, so that keys printed once stay valid) and `run.json` (where a
 * running `npm start` listens, read by the demo, the tests and `loader
 * status`). Both are written whole and readable by their owner only. The
 * project list every deployable serves (the file's and the demo project) is
 * made here too, so the edge and insights alone accept the keys `npm start` does.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { isProcessAlive } from '../runtime/process-alive.ts';
import { ConfigError } from './config-error.ts';
import { DEFAULT_PORTS, demoOrigins, type PipelineShared } from './pipeline-config.ts';
import type { ProjectsSection } from './projects.ts';

const localSecretsSchema = z.object({
  project: z.object({ id: z.string(), name: z.string(), writeKey: z.string(), readKey: z.string() }),
  ipSalt: z.string().min(16),
  relaySecret: z.string().min(16),
  controlToken: z.string().min(16),
});
export type LocalSecrets = z.output<typeof localSecretsSchema>;

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

/** Written whole (temp file, then rename) and readable by the owner only. */
export async function writePrivateJson(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

/** `<dataDir>/keys.json`, generated on the first run (the directory too) and reused after. */
export async function dataDirSecrets(dataDir: string): Promise<LocalSecrets> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, 'keys.json');
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text !== null) {
    const parsed = localSecretsSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    throw new ConfigError(`${path} is damaged; delete it to get new demo keys`);
  }
  const secrets: LocalSecrets = {
    project: {
      id: 'demo',
      name: 'Demo site',
      writeKey: `wk_demo_${token(18)}`,
      readKey: `rk_demo_${token(24)}`,
    },
    ipSalt: token(24),
    relaySecret: token(32),
    controlToken: token(24),
  };
  await writePrivateJson(path, secrets);
  return secrets;
}

/** The pipeline file's sections a project list depends on (the ports name the demo project's origins). */
export type ProjectsSource = Pick<PipelineShared, 'projects' | 'demoProject' | 'host'> & {
  edge: { port?: number | undefined };
  insights: { port?: number | undefined };
};

/** The file's projects, and the demo project when `demoProject` is on; a ConfigError when none is left. */
export function pipelineProjects(config: ProjectsSource, secrets: LocalSecrets): ProjectsSection {
  const { id, name, writeKey, readKey } = secrets.project;
  const ports = {
    edge: config.edge.port ?? DEFAULT_PORTS.edge,
    insights: config.insights.port ?? DEFAULT_PORTS.insights,
  };
  const keys = { writeKeys: [writeKey], readKeys: [readKey], allowedOrigins: demoOrigins(config, ports) };
  // Room for `npm run demo` sending a few days of traffic at once.
  const demo = { id, name, ...keys, rateLimit: { perSecond: 5000, burst: 50_000 } };
  const projects = [...config.projects, ...(config.demoProject ? [demo] : [])];
  if (projects.length === 0)
    throw new ConfigError('No project: list some under "projects" or set "demoProject": true');
  return projects;
}

// ---------------------------------------------------------------- run.json

/** What `npm start` writes to `<dataDir>/run.json` once every server listens; removed on a clean stop. */
const runInfoSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  edgeUrl: z.string(),
  insightsUrl: z.string(),
  controlUrl: z.string(),
  controlToken: z.string(),
  relaySecret: z.string().nullable(),
  project: z.object({ id: z.string(), writeKey: z.string(), readKey: z.string() }),
  adapters: z.object({ bus: z.string(), store: z.string(), catalog: z.string() }),
  loaderCron: z.string(),
});
export type RunInfo = z.output<typeof runInfoSchema>;

export const runFileOf = (dataDir: string) => join(dataDir, 'run.json');

/** The run.json in `dataDir` as written, or null (none, or not ours to read). */
export async function readRunFile(dataDir: string): Promise<RunInfo | null> {
  const text = await readFile(runFileOf(dataDir), 'utf8').catch(() => null);
  if (text === null) return null;
  const parsed = runInfoSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : null;
}

/** The live process of this data directory, or null (none ever ran, or it died without cleaning up). */
export async function readRunInfo(dataDir: string): Promise<RunInfo | null> {
  const run = await readRunFile(dataDir);
  return run && isProcessAlive(run.pid) ? run : null;
}
