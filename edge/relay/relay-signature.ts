/**
 * @module Signing of relay batches: the Worker's queue consumer signs each
 * batch it forwards to a regional Node relay, which verifies before taking
 * it. HMAC-SHA256 over `<timestamp>.<body>`, hex, in the signature header
 * (`v1=<hex>`, so a second scheme can be added beside it); the timestamp
 * bounds replay. Verification uses `crypto.subtle.verify`, which compares in
 * constant time. Web Crypto only: the Worker imports this file too.
 */
import { toHex } from '../pipeline/ip-hash.ts';

export const RELAY_SIGNATURE_HEADER = 'x-beacon-signature';
export const RELAY_TIMESTAMP_HEADER = 'x-beacon-timestamp';

const encoder = new TextEncoder();

function hmacKey(secret: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    usage,
  ]);
}

function signedBytes(timestampSeconds: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${timestampSeconds}.`);
  const out = new Uint8Array(prefix.byteLength + body.byteLength);
  out.set(prefix, 0);
  out.set(body, prefix.byteLength);
  return out;
}

/** Headers to send with `body` (the exact bytes that will be posted). */
export async function signRelayBody(
  secret: string,
  body: Uint8Array | string,
  timestampSeconds: number,
): Promise<Record<string, string>> {
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  const key = await hmacKey(secret, 'sign');
  const mac = await crypto.subtle.sign('HMAC', key, signedBytes(timestampSeconds, bytes));
  return {
    [RELAY_SIGNATURE_HEADER]: `v1=${toHex(new Uint8Array(mac))}`,
    [RELAY_TIMESTAMP_HEADER]: String(timestampSeconds),
  };
}

export type RelayVerdict = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'forged' };

export async function verifyRelaySignature(options: {
  secret: string;
  body: Uint8Array;
  signatureHeader: string | undefined;
  timestampHeader: string | undefined;
  nowSeconds: number;
  maxSkewSeconds: number;
}): Promise<RelayVerdict> {
  const { signatureHeader, timestampHeader } = options;
  if (!signatureHeader || !timestampHeader) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestampHeader)) return { ok: false, reason: 'forged' };
  const timestamp = Number(timestampHeader);
  if (Math.abs(options.nowSeconds - timestamp) > options.maxSkewSeconds)
    return { ok: false, reason: 'stale' };
  const match = /^v1=([0-9a-f]{64})$/i.exec(signatureHeader.trim());
  if (!match) return { ok: false, reason: 'forged' };
  const mac = fromHex(match[1]!);
  const key = await hmacKey(options.secret, 'verify');
  const valid = await crypto.subtle.verify('HMAC', key, mac, signedBytes(timestamp, options.body));
  return valid ? { ok: true } : { ok: false, reason: 'forged' };
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
