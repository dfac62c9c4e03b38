/**
 * @module Anonymised IP: HMAC-SHA256 of the address under a secret salt,
 * truncated to 64 bits. Distinct visitors stay countable, but without the
 * salt nobody can test the 2^32 IPv4 addresses against a hash, and the raw
 * address never reaches the bus. Web Crypto, so Node and Workers share it.
 */
import { LRUCache } from 'lru-cache';

const HASH_BYTES = 8;

export type IpHasher = (ip: string) => Promise<string>;

export function createIpHasher(secret: string, cacheSize = 10_000): IpHasher {
  const encoder = new TextEncoder();
  // A visitor sends many requests from one address: hash it once.
  const cache = new LRUCache<string, string>({ max: cacheSize });
  // Imported once, on first use: nothing happens at construction.
  let key: Promise<CryptoKey> | undefined;
  return async (ip) => {
    const address = normaliseIp(ip);
    const hit = cache.get(address);
    if (hit) return hit;
    key ??= crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    const mac = await crypto.subtle.sign('HMAC', await key, encoder.encode(address));
    const hash = toHex(new Uint8Array(mac, 0, HASH_BYTES));
    cache.set(address, hash);
    return hash;
  };
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is 1.2.3.4. */
function normaliseIp(ip: string): string {
  const trimmed = ip.trim().toLowerCase();
  return trimmed.startsWith('::ffff:') && trimmed.includes('.') ? trimmed.slice(7) : trimmed;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
