import { describe, expect, it } from 'vitest';
import { createUserAgentParser } from './user-agent.ts';

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const CHROME_ANDROID =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36';
const SAFARI_IPAD =
  'Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
const SAFARI_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15';
const CHROME_OS =
  'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

describe('createUserAgentParser', () => {
  const parse = createUserAgentParser();

  it('gives browser, version, os and device', () => {
    expect(parse(CHROME_WINDOWS)).toEqual({
      browser: 'Chrome',
      browserVersion: '120.0.0.0',
      os: 'Windows',
      device: 'desktop',
    });
    expect(parse(CHROME_ANDROID)).toEqual({
      browser: 'Chrome',
      browserVersion: '120.0.6099.144',
      os: 'Android',
      device: 'mobile',
    });
    expect(parse(SAFARI_IPAD)).toEqual({
      browser: 'Mobile Safari',
      browserVersion: '17.1',
      os: 'iOS',
      device: 'tablet',
    });
  });

  it('uses the current OS names, as rows written before the switch to ua-parser-js 1.x do', () => {
    expect(parse(SAFARI_MAC).os).toBe('macOS');
    expect(parse(CHROME_OS).os).toBe('Chrome OS');
  });

  it('reports only what it recognises, and desktop when no device type is named', () => {
    expect(parse('curl/8.0')).toEqual({ device: 'desktop' });
    expect(parse('')).toEqual({ device: 'desktop' });
  });

  it('reads at most 512 characters and answers a repeated string from its cache', () => {
    const padded = `${CHROME_ANDROID} ${'x'.repeat(100_000)}`;
    expect(parse(padded)).toEqual(parse(CHROME_ANDROID));
    expect(parse(CHROME_WINDOWS)).toBe(parse(CHROME_WINDOWS));
  });
});
