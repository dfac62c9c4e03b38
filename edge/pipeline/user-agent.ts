/**
 * @module User-agent parsing with a small LRU in front: a site's traffic
 * comes from a few hundred distinct UA strings, and parsing is the costliest
 * part of enrichment. The parser is ua-parser-js 1.x, which is MIT: from 2.0
 * on it is AGPL-3.0, which an Apache-2.0 project cannot ship, so the
 * dependency is pinned to ^1 (edge/README.md). Plain JavaScript with no
 * platform API, so the Worker bundles the same parser.
 */
import { LRUCache } from 'lru-cache';
// A CommonJS module (`module.exports = UAParser`): the default import is that function.
import UAParser from 'ua-parser-js';
import type { EnrichedEvent } from '../../shared/event.ts';

export type ParsedUserAgent = NonNullable<NonNullable<EnrichedEvent['enrichment']>['userAgent']>;
export type UserAgentParser = (ua: string) => ParsedUserAgent;

const MAX_UA_LENGTH = 512;

/**
 * ua-parser-js 1.x spells a few names the old way; warehouse rows, rollups and
 * fixtures use the current spelling (what 2.x wrote), so one OS never splits
 * into two series on a dashboard.
 */
const OS_NAMES: Record<string, string> = { 'Mac OS': 'macOS', 'Chromium OS': 'Chrome OS' };

export function createUserAgentParser(cacheSize = 2000): UserAgentParser {
  const cache = new LRUCache<string, ParsedUserAgent>({ max: cacheSize });
  return (raw) => {
    const ua = raw.slice(0, MAX_UA_LENGTH);
    const hit = cache.get(ua);
    if (hit) return hit;
    const r = UAParser(ua);
    const parsed: ParsedUserAgent = {};
    if (r.browser.name) parsed.browser = r.browser.name;
    if (r.browser.version) parsed.browserVersion = r.browser.version;
    if (r.os.name) parsed.os = OS_NAMES[r.os.name] ?? r.os.name;
    // ua-parser leaves the type empty for desktops.
    parsed.device = r.device.type ?? 'desktop';
    cache.set(ua, parsed);
    return parsed;
  };
}
