/**
 * @module The object store on S3 or any S3-compatible server (MinIO, s3proxy,
 * Ceph, R2) through `@aws-sdk/client-s3`. Small bodies go up in one PutObject;
 * streams and large bodies through `@aws-sdk/lib-storage`'s multipart Upload,
 * since PutObject cannot send a stream of unknown length. Every SDK failure
 * becomes a StoreError that says whether a retry can help.
 *
 * Over 300 lines: it is one adapter of a seven-method port plus the error
 * mapping every method shares; key checks already live in object-key.ts.
 */

import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { chunked } from '../../batches.ts';
import { StoreError } from '../../errors.ts';
import { assertKeyPrefix, assertObjectKey } from '../object-key.ts';
import type { ObjectInfo, ObjectStore, PutOptions, StoreLocation } from '../object-store.ts';
import { mapStreamErrors } from '../stream-errors.ts';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** Keys live under `<prefix>/` in the bucket; '' or absent for the bucket root. */
  prefix?: string;
  /** e.g. http://127.0.0.1:9000 for an S3-compatible server; absent for AWS. */
  endpoint?: string;
  region?: string;
  /** Path-style URLs (http://host/bucket/key), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  /** Absent: the SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Bodies at least this large (and every stream) go up as multipart. Default 16 MiB. */
  multipartThreshold?: number;
  /** Multipart part size. Default 8 MiB (S3's minimum is 5 MiB). */
  partSize?: number;
  /** Parts uploaded at once per object. Default 4. */
  queueSize?: number;
  /** An S3Client to use instead of building one from the options above (tests, custom middleware). */
  client?: S3Client;
}

/** S3 answers at most 1000 keys per DeleteObjects. */
const DELETE_BATCH = 1000;
const MIB = 1024 * 1024;

export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (this.prefix !== '') assertKeyPrefix(this.prefix);
    this.multipartThreshold = options.multipartThreshold ?? 16 * MIB;
    this.partSize = options.partSize ?? 8 * MIB;
    this.queueSize = options.queueSize ?? 4;
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new S3Client({
        endpoint: options.endpoint,
        region: options.region ?? 'us-east-1',
        forcePathStyle: options.forcePathStyle ?? false,
        credentials: options.credentials,
        // Checksums "when required" only: S3-compatible servers disagree on the newer CRC headers.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
  }

  async put(key: string, body: Uint8Array | string | Readable, options: PutOptions = {}): Promise<void> {
    assertObjectKey(key);
    const params = {
      Bucket: this.bucket,
      Key: this.fullKey(key),
      ContentType: options.contentType,
      // Honoured by PutObject and CompleteMultipartUpload alike: the create-only lock.
      IfNoneMatch: options.ifNoneMatch ? '*' : undefined,
    };
    try {
      if (typeof body === 'string' || body instanceof Uint8Array) {
        const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
        if (bytes.length < this.multipartThreshold) {
          await this.client.send(
            new PutObjectCommand({ ...params, Body: bytes, ContentLength: bytes.length }),
          );
          return;
        }
        await this.upload({ ...params, Body: bytes });
        return;
      }
      await this.upload({ ...params, Body: body });
    } catch (error) {
      throw s3Error(`put ${key}`, error);
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    const response = await this.getObject(key);
    if (response === null) return null;
    try {
      return response.Body ? await response.Body.transformToByteArray() : new Uint8Array(0);
    } catch (error) {
      throw s3Error(`get ${key}`, error);
    }
  }

  async getStream(key: string): Promise<Readable | null> {
    const response = await this.getObject(key);
    if (response === null) return null;
    // In Node the SDK's body is an http.IncomingMessage, a Readable.
    const body = response.Body instanceof Readable ? response.Body : Readable.from([]);
    return mapStreamErrors(body, (error) => s3Error(`get ${key}`, error));
  }

  /** The object's GetObject answer; null when there is none (a missing bucket is an error, not a missing object). */
  private async getObject(key: string): Promise<GetObjectCommandOutput | null> {
    assertObjectKey(key);
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
    } catch (error) {
      if (statusOf(error) === 404 && nameOf(error) !== 'NoSuchBucket') return null;
      throw s3Error(`get ${key}`, error);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const object of this.listUnder(prefix)) {
      // A key ending in '/' is a folder marker (Hadoop's S3A writes them for Hive): no object of ours.
      if (object.key === '' || object.key.endsWith('/')) continue;
      yield { key: object.key, size: object.size, lastModified: object.lastModified };
    }
  }

  /** Everything under `prefix`, folder markers included, with the bucket key beside the store's own. */
  private async *listUnder(prefix: string): AsyncIterable<ObjectInfo & { bucketKey: string }> {
    assertKeyPrefix(prefix);
    const strip = this.prefix === '' ? 0 : this.prefix.length + 1;
    try {
      const pages = paginateListObjectsV2(
        { client: this.client },
        { Bucket: this.bucket, Prefix: this.fullKey(prefix) },
      );
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          yield {
            bucketKey: object.Key,
            key: object.Key.slice(strip),
            size: object.Size ?? 0,
            lastModified: object.LastModified ?? new Date(0),
          };
        }
      }
    } catch (error) {
      throw s3Error(`list ${prefix}`, error);
    }
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) assertObjectKey(key);
    await this.deleteBucketKeys(keys.map((key) => this.fullKey(key)));
  }

  /** Deletes folder markers (keys ending in '/', which `list` skips) along with the objects. */
  async deletePrefix(prefix: string): Promise<number> {
    assertKeyPrefix(prefix);
    let deleted = 0;
    for await (const batch of chunked(this.listUnder(prefix), DELETE_BATCH)) {
      await this.deleteBucketKeys(batch.map((object) => object.bucketKey));
      deleted += batch.length;
    }
    return deleted;
  }

  /** Keys as they are in the bucket, already checked (or listed from it, as folder markers are). */
  private async deleteBucketKeys(bucketKeys: string[]): Promise<void> {
    for (let i = 0; i < bucketKeys.length; i += DELETE_BATCH) {
      const batch = bucketKeys.slice(i, i + DELETE_BATCH);
      let response: DeleteObjectsCommandOutput;
      try {
        response = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true },
          }),
        );
      } catch (error) {
        throw s3Error(`delete ${batch.length} keys`, error);
      }
      const failed = response.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new StoreError(
          `S3 could not delete ${failed.length} of ${batch.length} keys (first: ${first?.Key}: ${first?.Code} ${first?.Message})`,
          {
            code: 'delete_failed',
            retriable: failed.some((f) => f.Code === 'InternalError' || f.Code === 'SlowDown'),
          },
        );
      }
    }
  }

  location(key: string): StoreLocation {
    assertKeyPrefix(key);
    return { kind: 's3', bucket: this.bucket, key: this.fullKey(key) };
  }

  /** Creates the bucket when it does not exist (start-up of one-bucket deployments and tests). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (statusOf(error) !== 404) throw s3Error(`check bucket ${this.bucket}`, error);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const name = nameOf(error);
      if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') return;
      throw s3Error(`create bucket ${this.bucket}`, error);
    }
  }

  /** Closes the HTTP connections of a client this store built (not of one passed in). */
  close(): void {
    if (this.ownsClient) this.client.destroy();
  }

  private fullKey(key: string): string {
    if (this.prefix === '') return key;
    return key === '' ? `${this.prefix}/` : `${this.prefix}/${key}`;
  }

  private async upload(params: {
    Bucket: string;
    Key: string;
    ContentType?: string;
    IfNoneMatch?: string;
    Body: Uint8Array | Readable;
  }): Promise<void> {
    // An upload that fails aborts its multipart upload (leavePartsOnError false),
    // so no invisible parts are left to pay for; the object appears only at Complete.
    const upload = new Upload({
      client: this.client,
      params,
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    await upload.done();
  }
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof S3ServiceException) return error.$metadata?.httpStatusCode;
  if (typeof error === 'object' && error !== null && '$metadata' in error) {
    const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
    return metadata?.httpStatusCode;
  }
  return undefined;
}

function nameOf(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** Network-level failures that a retry can cure. */
const RETRIABLE_NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

function s3Error(what: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const status = statusOf(error);
  const name = nameOf(error) ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  if (status === 412 || name === 'PreconditionFailed') {
    return new StoreError(`S3 could not ${what}: the object already exists (create-only put)`, {
      code: 'precondition_failed',
      status: 412,
      cause: error,
    });
  }
  const code =
    typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  const retriable =
    status === undefined
      ? RETRIABLE_NETWORK.has(name) || (code !== undefined && RETRIABLE_NETWORK.has(code))
      : status >= 500 || status === 429 || name === 'SlowDown' || name === 'RequestTimeout';
  return new StoreError(`S3 could not ${what}: ${name}${status ? ` (HTTP ${status})` : ''}: ${message}`, {
    code: status === undefined ? 'unavailable' : `s3_${name}`,
    retriable,
    status: retriable ? 503 : 500,
    cause: error,
  });
}
