/**
 * @module Reading a JSON config file, the same for every entry: a file that
 * cannot be read, is not JSON or is not an object is a ConfigError naming it.
 */
import { readFileSync } from 'node:fs';
import { isJsonObject } from '../adapters-config.ts';
import { ConfigError } from './config-error.ts';

export type Json = Record<string, unknown>;

/** The file's JSON value (a projects file holds an array). */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** The file's object; synchronous because entries read it once, before anything else runs. */
export function readConfigFile(path: string): Json {
  const parsed = readJsonFile(path);
  if (!isJsonObject(parsed)) throw new ConfigError(`${path} must hold a JSON object`);
  return parsed;
}
