/**
 * @module Whether a user agent is a bot's, by isbot's maintained list, with
 * a small LRU in front. isbot runs one very large regular expression over the
 * string, and that match was the largest single cost of the edge's main
 * thread at batch 100 (13.7 % of it, more than JSON.parse; edge/README.md,
 * "Where the time goes"), while a site's traffic repeats a few hundred
 * distinct user agents, as user-agent.ts relies on too.
 */
import { isbot } from 'isbot';
import { LRUCache } from 'lru-cache';

export type BotJudge = (ua: string) => boolean;

/**
 * Longer strings are judged every time, not cached: a key is held for as
 * long as it stays in the LRU, and a client chooses its length.
 */
const MAX_CACHED_LENGTH = 512;

export function createBotJudge(cacheSize = 2000): BotJudge {
  const cache = new LRUCache<string, boolean>({ max: cacheSize });
  return (ua) => {
    if (ua.length > MAX_CACHED_LENGTH) return isbot(ua);
    const hit = cache.get(ua);
    if (hit !== undefined) return hit;
    const bot = isbot(ua);
    cache.set(ua, bot);
    return bot;
  };
}
