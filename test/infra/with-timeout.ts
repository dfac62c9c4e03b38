/**
 * @module A deadline for client calls that can hang forever (hive-driver's connect and
 * openSession hang when the authentication does not match the server).
 */

/** Resolves with `promise`, or rejects after `ms` (then calls `onTimeout` to free resources). */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${what} timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
