/**
 * @module The loader's public surface, for the one-machine composition
 * (`npm start`) and for operators scripting it: start it as a scheduled
 * service, or run one pass, a replay or a status check with ports you built.
 */
export { type LoaderPorts, openPorts } from './adapters.ts';
export {
  type LoaderConfig,
  type LoaderConfigInput,
  loadConfig,
  loaderConfigSchema,
  settingsOf,
} from './config.ts';
export type { LoaderDeps, LoaderSettings } from './loader-deps.ts';
export type { RunResult } from './loader-state.ts';
export { LockBusyError } from './object-store-lock.ts';
export { replayHours } from './replay.ts';
export { runOnce } from './run-once.ts';
export { type RunningLoader, startLoader } from './start.ts';
export { type LoaderStatus, loaderStatus } from './status.ts';
