/**
 * The S3 adapter of deliveries against real servers: the local cloud's S3 (s3rver behind the edge) always,
 * and Ceph RGW when CI has started it (CALMS_TEST_CEPH_ENDPOINT, see .ci/ceph.sh). On Ceph the lifecycle rule
 * of lib/storage/lifecycle.ts really expires a delivery, and a kept one survives it.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DeliveryManifest } from '../../lib/domain/delivery';
import { deliveryReadme, fieldSelectionKey, tarballKey } from '../../lib/domain/delivery';
import { dataBucketLifecycleRules } from '../../lib/storage/lifecycle';
import { RETENTION_TAG, S3DeliveryStore } from '../../lib/storage/S3DeliveryStore';
import { cephS3Client, cephSettings, createTestBucket } from './support/ceph';
import { eventually } from './support/eventually';
import { s3Backends } from './support/s3Backends';

const MIB = 1024 * 1024;
const EB = 'uid___A002_X11d0e1_X7';
const MS = `${EB}.ms.split.cal`;

const BACKENDS = s3Backends('calms-store');

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const bytes = (size: number, seed: number) => Buffer.alloc(size, seed);

async function read(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

async function retentionTag(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  const { TagSet = [] } = await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return TagSet.find((tag) => tag.Key === RETENTION_TAG)?.Value;
}

let requestCounter = 0;
/** Uploads one tarball as a delivery of a new request and publishes it. */
async function publishedDelivery(store: S3DeliveryStore, content: Buffer, stagedAt = new Date()): Promise<DeliveryManifest> {
  requestCounter += 1;
  const requestId = `t1-store-${process.pid}-${requestCounter}`;
  const key = tarballKey(requestId, MS);
  const uploadId = await store.openUpload(key);
  const part = await store.uploadPart(key, uploadId, 1, content);
  const size = await store.completeUpload(key, uploadId, [part]);
  const manifest: DeliveryManifest = {
    requestId,
    mous: 'uid___A001_X3a0_X299',
    projectCode: '2023.1.00456.S',
    helpdeskTicket: '1',
    calibratorFields: [],
    stagedAt: stagedAt.toISOString(),
    expiresAt: new Date(stagedAt.getTime() + 28 * 86_400_000).toISOString(),
    retentionDays: 28,
    token: randomBytes(32).toString('hex'),
    tarballs: [{ name: `${MS}.tar`, bytes: size, sha256: sha256(content), source: 'cluster' }],
  };
  await store.publish(manifest, deliveryReadme(manifest), fieldSelectionKey([]));
  return manifest;
}

describe.each(BACKENDS)('deliveries on $name', (backend) => {
  let client: S3Client;
  let bucket: string;
  let store: S3DeliveryStore;

  beforeAll(async () => {
    client = backend.client();
    bucket = await backend.bucket(client);
    store = new S3DeliveryStore(client, bucket);
  });

  test('a multipart upload is invisible until complete, found again by openUpload, and tagged to expire', async () => {
    const key = tarballKey(`t2-upload-${process.pid}`, MS);
    const first = bytes(5 * MIB, 1);
    const second = bytes(1000, 2);

    const uploadId = await store.openUpload(key);
    const one = await store.uploadPart(key, uploadId, 1, first);
    expect(await store.objectSize(key)).toBeUndefined();
    expect(await store.openUpload(key)).toBe(uploadId);
    const two = await store.uploadPart(key, uploadId, 2, second);
    const listed = await store.listParts(key, uploadId);
    const size = await store.completeUpload(key, uploadId, [two, one]);

    expect(listed.map((part) => [part.partNumber, part.size])).toEqual([
      [1, first.length],
      [2, second.length],
    ]);
    expect(size).toBe(first.length + second.length);
    expect((await read(client, bucket, key)).equals(Buffer.concat([first, second]))).toBe(true);
    expect(await retentionTag(client, bucket, key)).toBe('expire');
  });

  test('an aborted upload leaves nothing, and the next openUpload starts a new one', async () => {
    const key = tarballKey(`t3-abort-${process.pid}`, MS);
    const uploadId = await store.openUpload(key);
    await store.uploadPart(key, uploadId, 1, bytes(5 * MIB, 3));

    await store.abortUpload(key, uploadId);
    await store.abortUpload(key, uploadId);

    await expect(store.listParts(key, uploadId)).rejects.toThrow();
    expect(await store.objectSize(key)).toBeUndefined();
    expect(await store.openUpload(key)).not.toBe(uploadId);
  });

  test('copies: one CopyObject, and UploadPartCopy ranges that tile the source, both with a fresh expiry tag', async () => {
    const source = Buffer.concat([bytes(5 * MIB, 4), bytes(5 * MIB, 5), bytes(MIB, 6)]);
    const sourceKey = `deliveries/t4-source-${process.pid}/${MS}.tar`;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: sourceKey, Body: source, Tagging: `${RETENTION_TAG}=kept` }));

    const whole = `deliveries/t4-whole-${process.pid}/${MS}.tar`;
    await store.copyObject(sourceKey, whole);
    const inParts = `deliveries/t4-parts-${process.pid}/${MS}.tar`;
    const uploadId = await store.openUpload(inParts);
    const parts = [];
    for (let start = 0, number = 1; start < source.length; start += 5 * MIB, number += 1) {
      parts.push(await store.copyPart(inParts, uploadId, number, sourceKey, start, Math.min(source.length, start + 5 * MIB) - 1));
    }
    const size = await store.completeUpload(inParts, uploadId, parts);

    expect((await read(client, bucket, whole)).equals(source)).toBe(true);
    expect(size).toBe(source.length);
    expect((await read(client, bucket, inParts)).equals(source)).toBe(true);
    expect(await retentionTag(client, bucket, whole)).toBe('expire');
    expect(await retentionTag(client, bucket, inParts)).toBe('expire');
  });

  test('a published delivery is found by its token and for re-use; keeping it retags every object, releasing it too', async () => {
    const content = bytes(2 * MIB, 7);
    const manifest = await publishedDelivery(store, content);

    const lookup = await store.lookupToken(manifest.token);
    const found = await store.findStaged(EB, fieldSelectionKey([]), new Date(Date.parse(manifest.stagedAt) - 1000));
    const tooOld = await store.findStaged(EB, fieldSelectionKey([]), new Date(Date.parse(manifest.stagedAt) + 1000));
    const otherSelection = await store.findStaged(EB, fieldSelectionKey(['J1337-1257']), new Date(0));
    await store.setKept(manifest.requestId, true);
    const kept = await store.lookupToken(manifest.token);
    const keptTag = await retentionTag(client, bucket, tarballKey(manifest.requestId, MS));
    await store.setKept(manifest.requestId, false);
    const released = await store.lookupToken(manifest.token);

    expect(lookup).toEqual({ state: 'published', manifest, kept: false, complete: true });
    expect(found).toEqual({ key: tarballKey(manifest.requestId, MS), bytes: content.length, sha256: sha256(content), stagedAt: manifest.stagedAt });
    expect(tooOld?.key).not.toBe(tarballKey(manifest.requestId, MS));
    expect(otherSelection).toBeUndefined();
    expect(kept).toMatchObject({ state: 'published', kept: true });
    expect(keptTag).toBe('kept');
    expect(released).toMatchObject({ state: 'published', kept: false });
    expect(await store.lookupToken(randomBytes(32).toString('hex'))).toEqual({ state: 'unknown' });
  });

  test('a tarball gone from a delivery makes it incomplete and no longer a candidate for re-use', async () => {
    const manifest = await publishedDelivery(store, bytes(MIB, 8));
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: tarballKey(manifest.requestId, MS) }));

    expect(await store.lookupToken(manifest.token)).toMatchObject({ state: 'published', complete: false });
    const candidate = await store.findStaged(EB, fieldSelectionKey([]), new Date(Date.parse(manifest.stagedAt) - 1000));
    expect(candidate?.key).not.toBe(tarballKey(manifest.requestId, MS));
  });

  test('a presigned download returns the bytes, offered as an attachment under the file name', async () => {
    const content = bytes(MIB, 9);
    const manifest = await publishedDelivery(store, content);

    const url = await store.presignDownload(tarballKey(manifest.requestId, MS), 60, `${MS}.tar`);
    const response = await fetch(url);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${MS}.tar"`);
    expect(Buffer.from(await response.arrayBuffer()).equals(content)).toBe(true);
  });
});

const ceph = cephSettings();
(ceph ? describe : describe.skip)('the lifecycle rule on Ceph RGW', () => {
  test('expires a delivery after its retention while a kept delivery survives it', async () => {
    const client = cephS3Client();
    const bucket = await createTestBucket(client, 'calms-expiry');
    await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: dataBucketLifecycleRules(1) } }));
    const store = new S3DeliveryStore(client, bucket);
    const expiring = await publishedDelivery(store, bytes(MIB, 10));
    const kept = await publishedDelivery(store, bytes(MIB, 11));
    await store.setKept(kept.requestId, true);

    // One lifecycle "day" is CALMS_TEST_CEPH_LC_DAY_SECONDS; Ceph's lifecycle thread runs about as often.
    const removed = await eventually(
      async () => {
        const lookup = await store.lookupToken(expiring.token);
        return lookup.state === 'removed' ? lookup : undefined;
      },
      'the delivery to expire',
      Math.max(120_000, 12 * ceph!.lcDaySeconds * 1000),
      1000,
    );

    expect(removed).toEqual({ state: 'removed', requestId: expiring.requestId });
    expect(await store.objectSize(tarballKey(expiring.requestId, MS))).toBeUndefined();
    expect(await store.lookupToken(kept.token)).toMatchObject({ state: 'published', kept: true, complete: true });
  }, 180_000);
});
