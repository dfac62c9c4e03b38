import { isbot } from 'isbot';
import { describe, expect, it } from 'vitest';
import { createBotJudge } from './bot-agent.ts';

const CRAWLER = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15';

describe('createBotJudge', () => {
  it('answers as isbot does, the first time and from its cache', () => {
    const judge = createBotJudge();
    for (let round = 0; round < 3; round++) {
      for (const ua of [CRAWLER, SAFARI, 'curl/8.5.0', 'HeadlessChrome/120', '']) {
        expect(judge(ua), ua).toBe(isbot(ua));
      }
    }
    expect(judge(CRAWLER)).toBe(true);
    expect(judge(SAFARI)).toBe(false);
  });

  it('keeps each agent its own answer when the cache evicts (one entry)', () => {
    const judge = createBotJudge(1);
    for (let i = 0; i < 4; i++) {
      expect(judge(CRAWLER)).toBe(true);
      expect(judge(SAFARI)).toBe(false);
    }
  });

  it('judges the whole of a long agent, not a cut: a bot marker past the cached length counts', () => {
    const judge = createBotJudge();
    const long = `${SAFARI} ${'x'.repeat(600)} Googlebot/2.1`;
    expect(judge(long)).toBe(true);
    expect(judge(long)).toBe(isbot(long));
    expect(judge(`${SAFARI} ${'x'.repeat(600)}`)).toBe(false);
  });
});
