/**
 * @module LZ4 for kafkajs, which ships gzip only: the codec registers in
 * kafkajs' codec table when a kafkajs adapter module is imported, so the
 * loader's reader decodes the lz4 record batches the edge produces by default
 * (edge/README.md, "Measurements": lz4 costs the edge a fraction of gzip's
 * CPU), and a kafkajs producer can write them.
 *
 * The frames come from @platformatic/wasm-utils, the WebAssembly LZ4 that
 * @platformatic/kafka itself uses: the same frame format both clients write
 * and read, no native addon, no second LZ4 implementation.
 */
import { lz4Compress, lz4Decompress } from '@platformatic/wasm-utils';
import kafkajs from 'kafkajs';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/** kafkajs' codec shape: compress takes its Encoder (the batch's bytes in `.buffer`). */
const lz4Codec = {
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    return lz4Compress(encoder.buffer);
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    return lz4Decompress(buffer);
  },
};

/** Idempotent: every kafkajs adapter module calls it when imported. */
export function registerLz4Codec(): void {
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
}
