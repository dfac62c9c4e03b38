/// <reference lib="dom" />
/**
 * @module The script-tag entry bundled into `/t.js`:
 * `<script async src="https://edge/t.js" data-write-key="…"></script>`. It builds the
 * tracker from the tag's data attributes, replays calls queued by the stub snippet (so
 * nothing called before the script arrived is lost), records a page view, and leaves the
 * tracker at `window.beacon`. The data attributes are documented in README.md.
 */
import { createTracker, type Tracker } from './tracker.ts';

declare global {
  interface Window {
    beacon?: Tracker | unknown[];
  }
}

// currentScript is null only inside callbacks and modules; the selector covers both.
const script = (document.currentScript ?? document.querySelector('script[data-write-key]')) as
  | HTMLScriptElement
  | undefined;
const data = script?.dataset;
if (script && data?.writeKey) {
  const number = (value?: string) => (value ? Number(value) : undefined);
  const tracker = createTracker({
    writeKey: data.writeKey,
    host: data.host || new URL(script.src).origin,
    flushAt: number(data.flushAt),
    flushInterval: number(data.flushInterval),
    respectDnt: data.respectDnt != null && data.respectDnt !== 'false',
    spa: data.spa != null && data.spa !== 'false',
  });
  const stub = window.beacon;
  window.beacon = tracker;
  // The stub is an array of [method, ...args] (README.md, "Script tag").
  if (Array.isArray(stub)) {
    for (const [method, ...args] of stub as [keyof Tracker, ...never[]][]) {
      (tracker[method] as (...a: unknown[]) => unknown)?.(...args);
    }
  }
  if (data.autoPage !== 'false') tracker.page();
}
