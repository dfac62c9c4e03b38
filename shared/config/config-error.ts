/**
 * @module The one way a bad configuration is reported, by every entry
 * (`npm start`, the edge, the loader, insights): a ConfigError whose message
 * names every bad field (zod's issues, each with its path), which the
 * entries print without a stack trace and exit with code 2. It is an
 * InputError: the person who wrote the file fixes it, and retrying cannot help.
 */
import { z } from 'zod';
import { InputError } from '../errors.ts';

/** What every entry exits with when its configuration is refused. */
export const CONFIG_EXIT_CODE = 2;

export class ConfigError extends InputError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { status: 400, code: 'bad_config', ...options });
  }

  /** `title`, then one line per issue, each naming the field's path (`bus.brokers`). */
  static ofIssues(title: string, error: z.ZodError): ConfigError {
    return new ConfigError(`${title}:\n${z.prettifyError(error)}`, { cause: error });
  }
}

/** Parses `input` with `schema`, or throws a ConfigError naming every bad field. */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, title: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw ConfigError.ofIssues(title, result.error);
  return result.data;
}
