/**
 * @module What a load pass and a compaction pass are for this configuration:
 * one loader over the whole topic (run-once.ts, compaction/compact.ts), or,
 * with `scaleOut.enabled`, a member of the loader group over its slots
 * (scaled-run.ts). The CLI and the scheduler (start.ts) both go through it.
 */

import { InputError } from '../../shared/errors.ts';
import { type CompactionResult, compactHours } from '../compaction/compact.ts';
import type { LoaderConfig } from '../config.ts';
import type { LoaderDeps } from '../loader-deps.ts';
import { layoutOf } from '../loader-deps.ts';
import { LoaderState, type RunResult } from '../loader-state.ts';
import { type RunOptions, runOnce } from '../run-once.ts';
import type { GroupMemberOptions, SlotMember } from './group-member.ts';
import { compactScaledOut, runScaledOut } from './scaled-run.ts';

export interface LoaderPasses {
  /** Whether this process is one member of a scaled-out group. */
  readonly scaledOut: boolean;
  /** Scaled out: the topics the group loads (what `loader status` reads per slot). */
  readonly topics?: readonly string[];
  run(deps: LoaderDeps, options?: RunOptions): Promise<RunResult>;
  compact(deps: LoaderDeps, hours?: number[]): Promise<CompactionResult>;
  /** Leaves the group (scaled out); nothing otherwise. */
  close(): Promise<void>;
}

const singleLoader: LoaderPasses = {
  scaledOut: false,
  run: (deps, options) => runOnce(deps, options),
  compact: (deps, hours) => compactHours(deps, hours ? { hours } : {}),
  close: async () => undefined,
};

/**
 * A single loader's unfinished load (its manifest under the topic's name)
 * must be settled by a single loader: its files span every slot.
 */
async function refuseUnsettledSingleLoad(deps: LoaderDeps): Promise<void> {
  const pending = await new LoaderState(deps.store, layoutOf(deps), deps.settings.topic).pending();
  if (pending)
    throw new InputError(
      `a load by a single loader (run ${pending.runId}) stopped before it finished; run \`loader run\` once without scaleOut to settle it, then scale out`,
      { status: 409, code: 'unsettled_single_load' },
    );
}

function groupOptions(config: LoaderConfig, deps: Pick<LoaderDeps, 'logger'>): GroupMemberOptions {
  if (config.bus.kind !== 'kafka')
    throw new InputError('scale-out needs the Kafka bus', { status: 400, code: 'bad_config' });
  return {
    brokers: config.bus.brokers,
    clientId: config.bus.clientId,
    group: config.group,
    topic: config.topic,
    ...(config.scaleOut.topicPattern !== undefined ? { topicPattern: config.scaleOut.topicPattern } : {}),
    sessionTimeoutMs: config.scaleOut.sessionTimeoutMs,
    logger: deps.logger,
  };
}

/**
 * Scaled out, the topics the loaders load: `topic`, or those the pattern matches now (a
 * read of the cluster's topic list, no group joined); undefined for a single loader.
 */
export async function scaledOutTopics(
  config: LoaderConfig,
  deps: Pick<LoaderDeps, 'logger'>,
): Promise<readonly string[] | undefined> {
  if (!config.scaleOut.enabled) return undefined;
  const { loaderTopics } = await import('./group-member.ts');
  return loaderTopics(groupOptions(config, deps));
}

/**
 * The passes for `config`. Scaled out, `join: true` makes this process a
 * member of the loader group (to load); without it, it only learns the
 * topics (`loader compact`, which would otherwise move every slot twice).
 */
export async function openLoaderPasses(
  config: LoaderConfig,
  deps: LoaderDeps,
  { join }: { join: boolean },
): Promise<LoaderPasses> {
  if (!config.scaleOut.enabled) return singleLoader;
  const options = groupOptions(config, deps);
  await refuseUnsettledSingleLoad(deps);
  // kafkajs loads only when scaled out: one-machine mode never needs it.
  const { joinLoaderGroup, loaderTopics } = await import('./group-member.ts');
  if (!join) {
    const topics = await loaderTopics(options);
    return {
      scaledOut: true,
      topics,
      run: () => Promise.reject(new Error('this process did not join the loader group')),
      compact: (d, hours) => compactScaledOut(d, topics, hours),
      close: async () => undefined,
    };
  }
  const member: SlotMember = await joinLoaderGroup(options);
  return {
    scaledOut: true,
    topics: member.topics,
    async run(d, options) {
      const result = await runScaledOut(d, member, options);
      return result.total;
    },
    compact: (d, hours) => compactScaledOut(d, member.topics, hours),
    close: () => member.leave(),
  };
}
