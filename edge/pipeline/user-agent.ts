/**
 * @module User-agent parsing with a small LRU in front: a site's traffic
 * comes from a few hundred distinct UA strings, and parsing is the costliest
 * part of enrichment.
 */
import { LRUCache } from 'lru-cache';
import { UAParser } from 'ua-parser-js';
import type { EnrichedEvent } from '../../shared/event.ts';

export type ParsedUserAgent = NonNullable<NonNullable<EnrichedEvent['enrichment']>['userAgent']>;
export type UserAgentParser = (ua: string) => ParsedUserAgent;

const MAX_UA_LENGTH = 512;

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
    if (r.os.name) parsed.os = r.os.name;
    // ua-parser leaves the type empty for desktops.
    parsed.device = r.device.type ?? 'desktop';
    cache.set(ua, parsed);
    return parsed;
  };
}
