/**
 * @module A bus call raced against a deadline, and optionally a signal: the
 * bus port takes no signal, so a slow produce cannot be cancelled, only no
 * longer waited for. Used by the Kafka-or-spool sink and the region router.
 */

/**
 * `promise`, or a rejection with `onTimeout()` after `ms`, or with
 * `onAbort()` when `signal` aborts first. The losing call may still settle
 * later; its outcome no longer matters.
 */
export function within<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  abort?: { signal: AbortSignal; onAbort: () => Error },
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let listener: (() => void) | undefined;
  const lost = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    if (abort) {
      listener = () => reject(abort.onAbort());
      abort.signal.addEventListener('abort', listener, { once: true });
    }
  });
  promise.catch(() => {});
  return Promise.race([promise, lost]).finally(() => {
    clearTimeout(timer);
    if (listener) abort?.signal.removeEventListener('abort', listener);
  });
}
