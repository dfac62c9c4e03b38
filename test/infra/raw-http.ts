/**
 * @module HTTP/1.1 spoken by hand over TCP, for tests of what a server does
 * with clients no library would imitate: trickled bodies, stalled headers,
 * lying Content-Lengths, thousands of headers.
 */
import { connect } from 'node:net';
import { expect } from 'vitest';

/** A raw HTTP response: status, lower-cased headers, body. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Writes `parts` to a fresh connection (a number is a pause in ms between
 * them) and collects everything the server sends until it closes; resolves
 * with the text and how long the connection lasted.
 */
export function rawExchange(
  port: number,
  parts: Array<string | number>,
  giveUpMs = 15_000,
): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${giveUpMs} ms; got ${JSON.stringify(text.slice(0, 300))}`));
    }, giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', () => {}); // a reset after the answer is fine: what was read counts
    socket.on('close', () => {
      closed = true;
      clearTimeout(giveUp);
      resolve({ text, ms: Date.now() - started });
    });
    socket.on('connect', async () => {
      for (const part of parts) {
        if (closed) return;
        if (typeof part === 'number') await new Promise((r) => setTimeout(r, part));
        else socket.write(part);
      }
    });
  });
}

/** The responses in `text`, in order (bodies by Content-Length). */
export function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = Buffer.from(rest.slice(end + 4), 'utf8')
      .subarray(0, length)
      .toString('utf8');
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body });
    rest = rest.slice(end + 4 + body.length);
  }
  return out;
}

export function expectJsonError(response: RawResponse | undefined, status: number, code: string): void {
  expect(response?.status).toBe(status);
  expect(response?.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(response?.body ?? '') as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
}
