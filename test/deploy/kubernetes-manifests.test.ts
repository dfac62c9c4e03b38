/**
 * The Kubernetes manifests under deploy/kubernetes/, validated offline: every document
 * against the API's JSON schema for its kind (kubernetes-models and @kubernetes-models/keda
 * carry them; no cluster, no network), then what a schema cannot see: each autoscaler and
 * budget points at a Deployment that exists, probes name a declared port and an endpoint the
 * service has, the edge's grace covers its drain, the loader's scale cap is the partition
 * count, and the edge's file passes the edge's own config validation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseEdgeConfig } from '../../edge/config.ts';

const DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));

type Doc = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const docs: { file: string; doc: Doc }[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]?.message}`);
    return { file, doc: d.toJS() as Doc };
  }),
);
const ofKind = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
const deployment = (name: string) => {
  const found = ofKind('Deployment').find((d) => d.metadata.name === name);
  if (!found) throw new Error(`no Deployment ${name}`);
  return found as Doc & {
    spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
  };
};
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  containers: {
    ports?: { name?: string; containerPort: number }[];
    readinessProbe?: Probe;
    livenessProbe?: Probe;
  }[];
}
const configMap = ofKind('ConfigMap')[0] as Doc & { data: Record<string, string> };

describe('deploy/kubernetes', () => {
  it('has the edge, loader and insights with their autoscalers and budgets', () => {
    expect(files.sort()).toEqual(['config.yaml', 'edge.yaml', 'insights.yaml', 'loader.yaml']);
    expect(docs.map((d) => `${d.doc.kind}/${d.doc.metadata.name}`).sort()).toEqual([
      'ConfigMap/beacon-config',
      'Deployment/beacon-edge',
      'Deployment/beacon-insights',
      'Deployment/beacon-loader',
      'HorizontalPodAutoscaler/beacon-edge',
      'PodDisruptionBudget/beacon-edge',
      'PodDisruptionBudget/beacon-insights',
      'ScaledObject/beacon-loader',
      'Service/beacon-edge',
      'Service/beacon-insights',
    ]);
  });

  for (const { file, doc } of docs) {
    it(`${file}: ${doc.kind} ${doc.metadata.name} matches the Kubernetes schema`, () => {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `a schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(doc as never).validate()).not.toThrow();
    });
  }

  it('a broken manifest fails the same validation', () => {
    const bad = structuredClone(deployment('beacon-edge')) as unknown as { spec: Record<string, unknown> };
    delete bad.spec.selector;
    expect(() => new Deployment(bad as never).validate()).toThrow();
    const badScaler = { ...ofKind('ScaledObject')[0], spec: { scaleTargetRef: { name: 'x' }, triggers: {} } };
    expect(() => new ScaledObject(badScaler as never).validate()).toThrow();
  });

  it('autoscalers and budgets point at Deployments that exist, by their labels', () => {
    for (const hpa of ofKind('HorizontalPodAutoscaler') as (Doc & {
      spec: { scaleTargetRef: { name: string } };
    })[]) {
      deployment(hpa.spec.scaleTargetRef.name);
    }
    for (const so of ofKind('ScaledObject') as (Doc & { spec: { scaleTargetRef: { name: string } } })[]) {
      deployment(so.spec.scaleTargetRef.name);
    }
    for (const pdb of ofKind('PodDisruptionBudget') as (Doc & {
      spec: { selector: { matchLabels: Record<string, string> } };
    })[]) {
      const labels = deployment(pdb.metadata.name).spec.template.metadata.labels;
      expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    }
  });

  it('the loader has no HTTP probes: `loader/cli.ts schedule` serves no HTTP', () => {
    for (const c of deployment('beacon-loader').spec.template.spec.containers) {
      expect(c.readinessProbe).toBeUndefined();
      expect(c.livenessProbe).toBeUndefined();
    }
  });

  it('probes use a declared port and the health endpoints each service has', () => {
    const endpoints: Record<string, string[]> = {
      'beacon-edge': ['/healthz', '/readyz'],
      'beacon-insights': ['/healthz', '/readyz'],
    };
    for (const [name, paths] of Object.entries(endpoints)) {
      for (const c of deployment(name).spec.template.spec.containers) {
        const names = (c.ports ?? []).map((p) => p.name);
        for (const probe of [c.readinessProbe, c.livenessProbe]) {
          expect(probe, `${name} probes`).toBeDefined();
          expect(names).toContain(probe?.httpGet.port);
          expect(paths).toContain(probe?.httpGet.path);
        }
      }
    }
  });

  it("the edge's file is a valid edge config with regions, and its grace covers the drain", () => {
    const raw = JSON.parse(configMap.data['edge.json'] ?? '') as Record<string, unknown>;
    delete raw.projectsFile;
    const config = parseEdgeConfig({ ...raw, projects: [], ipSalt: 'a-salt-of-sixteen-chars' });
    expect(config.kafka.regions?.length).toBeGreaterThan(1);
    // Requests in flight, then the spool's drain: each up to shutdownGraceMs.
    const drainSeconds = (2 * config.shutdownGraceMs) / 1000;
    const grace = deployment('beacon-edge').spec.template.spec.terminationGracePeriodSeconds ?? 30;
    expect(grace).toBeGreaterThan(drainSeconds);
  });

  it("the loader's scale cap is the topic's partition count", () => {
    const pipeline = JSON.parse(configMap.data['pipeline.json'] ?? '') as { bus: { partitions: number } };
    const so = ofKind('ScaledObject')[0] as Doc & {
      spec: { maxReplicaCount: number; triggers: { type: string; metadata: Record<string, string> }[] };
    };
    expect(so.spec.maxReplicaCount).toBe(pipeline.bus.partitions);
    expect(so.spec.triggers[0]?.type).toBe('kafka');
    expect(so.spec.triggers[0]?.metadata.allowIdleConsumers).toBe('false');
  });
});
