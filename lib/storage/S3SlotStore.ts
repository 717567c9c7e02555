/**
 * The staging slots in the data bucket:
 *
 *   slots/holders.json              the holders; replaced only by a conditional write (If-Match on the ETag
 *                                   read, or If-None-Match: * when it does not exist yet), so of two executions
 *                                   racing for the last slot exactly one gets it
 *   slots/queue/<arrival>_<id>.json one per waiting request; its LastModified says when it was last renewed
 *
 * AWS S3, LocalStack, Ceph RGW and the local cloud's edge all honour these conditions. Ceph (16.2) compares
 * If-Match with the ETag without its quotes (probed): a 412 although the object is unchanged means the store
 * wants that form, and from then on it gets it.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { httpStatusOf } from '../aws/errors';
import { isMissingObject, readJsonObject, s3Call, storageFailure } from '../aws/s3Objects';
import { queueKey, type QueueEntry, type SlotHolder, type StoredQueueEntry } from '../domain/slots';
import { StorageUnavailableError } from '../errors';
import type { HoldersChange, SlotStore } from './SlotStore';

export const SLOTS_PREFIX = 'slots/';
const HOLDERS_KEY = `${SLOTS_PREFIX}holders.json`;
const QUEUE_PREFIX = `${SLOTS_PREFIX}queue/`;
/** Conflicts are between a handful of executions; this many in a row means something is wrong. */
const MAX_ATTEMPTS = 25;

/** 412: somebody wrote first. 409: a conditional write to the key is in flight (AWS). */
const isConflict = (error: unknown) => [409, 412].includes(httpStatusOf(error) ?? 0);

export class S3SlotStore implements SlotStore {
  private unquotedEtags = false;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly pause: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async joinQueue(entry: QueueEntry): Promise<void> {
    await s3Call(`write the queue entry of ${entry.requestId}`, () =>
      this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.queueKey(entry), Body: JSON.stringify(entry), ContentType: 'application/json' }),
      ),
    );
  }

  async leaveQueue(entry: QueueEntry): Promise<void> {
    await s3Call(`remove the queue entry of ${entry.requestId}`, () =>
      this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.queueKey(entry) })),
    );
  }

  async readQueue(): Promise<StoredQueueEntry[]> {
    const objects: { key: string; touchedAt: Date }[] = [];
    let token: string | undefined;
    do {
      const page = await s3Call('list the staging queue', () =>
        this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: QUEUE_PREFIX, ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) objects.push({ key: object.Key, touchedAt: object.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const entries = await Promise.all(
      objects.map(async ({ key, touchedAt }) => {
        const entry = await readJsonObject<QueueEntry>(this.s3, this.bucket, key);
        // Gone between the listing and the read: the request left the queue.
        return entry ? { ...entry, touchedAt } : undefined;
      }),
    );
    return entries.filter((entry): entry is StoredQueueEntry => entry !== undefined);
  }

  async readHolders(): Promise<SlotHolder[]> {
    return (await this.readHoldersWithEtag()).holders;
  }

  async updateHolders<T>(change: (holders: readonly SlotHolder[]) => HoldersChange<T>): Promise<T> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const { holders, etag } = await this.readHoldersWithEtag();
      const { holders: next, result } = change(holders);
      if (!next) return result;
      try {
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: HOLDERS_KEY,
            Body: JSON.stringify(next),
            ContentType: 'application/json',
            ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: this.unquotedEtags ? etag.replace(/"/g, '') : etag }),
          }),
        );
        return result;
      } catch (error) {
        if (!isConflict(error)) throw storageFailure('write the staging slot holders', error);
        // Only a 412 says the ETag did not match; a 409 (a write in flight) leaves it unchanged on any store.
        if (httpStatusOf(error) === 412 && etag !== undefined && !this.unquotedEtags && (await this.readHoldersWithEtag()).etag === etag) {
          this.unquotedEtags = true;
          continue;
        }
        // Someone else changed the holders: read again after a short random pause, so racers spread out.
        await this.pause(Math.random() * 50 * Math.min(attempt, 10));
      }
    }
    throw new StorageUnavailableError(`the staging slot holders changed ${MAX_ATTEMPTS} times while CalMS tried to update them`);
  }

  private async readHoldersWithEtag(): Promise<{ holders: SlotHolder[]; etag?: string }> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: HOLDERS_KEY }));
      return { holders: JSON.parse(await object.Body!.transformToString('utf8')) as SlotHolder[], etag: object.ETag };
    } catch (error) {
      if (isMissingObject(error)) return { holders: [] };
      throw storageFailure('read the staging slot holders', error);
    }
  }

  private queueKey(entry: QueueEntry): string {
    return `${QUEUE_PREFIX}${queueKey(entry)}.json`;
  }
}
