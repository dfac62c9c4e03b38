/**
 * @module Keeps the port's promise that every failure is a StoreError for
 * streams too: an error raised while the caller reads (a reset connection
 * mid-download) would otherwise surface as the raw SDK or fs error, without
 * `retriable`.
 */
import { Readable } from 'node:stream';
import type { StoreError } from '../errors.ts';

export function mapStreamErrors(source: Readable, toStoreError: (error: unknown) => StoreError): Readable {
  async function* chunks() {
    try {
      // Returning early (the consumer destroyed the result) ends this loop, which destroys `source`.
      yield* source;
    } catch (error) {
      throw toStoreError(error);
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
