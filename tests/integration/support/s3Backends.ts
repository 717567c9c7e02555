/**
 * The S3 servers a storage adapter is tested on: the local cloud's S3 (s3rver behind the edge) always, and
 * Ceph RGW when CI has started it (see ceph.ts). Each test makes a bucket of its own.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { cephS3Client, cephSettings, createTestBucket } from './ceph';
import { s3 } from './clients';

export interface S3Backend {
  readonly name: string;
  /** A new client each call. */
  readonly client: () => S3Client;
  /** A new bucket named from the file's prefix. */
  readonly bucket: (client: S3Client) => Promise<string>;
  /** Whether If-Match must be sent without quotes (Ceph 16.2). */
  readonly unquotedEtags: boolean;
}

export function s3Backends(bucketPrefix: string): S3Backend[] {
  const bucket = (client: S3Client) => createTestBucket(client, bucketPrefix);
  return [
    { name: 'the local cloud (s3rver behind the edge)', client: s3, bucket, unquotedEtags: false },
    ...(cephSettings() ? [{ name: 'Ceph RGW', client: () => cephS3Client(), bucket, unquotedEtags: true }] : []),
  ];
}
