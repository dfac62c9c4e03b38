/**
 * @module Integration tests print the shared stack's server logs when they fail: the cause
 * of a failure against a real server is usually in that server's own log.
 */
import { afterEach } from 'vitest';
import { formatLogTails } from './log-tail.ts';
import { type StackServer, stackLogFiles } from './stack-layout.ts';

/**
 * In an integration test file: after each failed test, print the tail of the shared stack's
 * logs for the servers the file talks to. Call at the top level of the file (or of a describe).
 */
export function printServerLogsOnFailure(servers: readonly StackServer[], lines = 60): void {
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    const files = servers.flatMap((server) => stackLogFiles(server));
    process.stderr.write(`\n${await formatLogTails(files, lines)}\n`);
  });
}
