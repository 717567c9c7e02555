import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StorageUnavailableError, TerminalError } from '../errors';
import type { Logger } from '../log';
import { httpStatusOf, isTransientAwsError } from '../aws/errors';
import type { ClaimResult, TriggerRecord, TriggerStore } from './TriggerStore';

/** Where things live in the data bucket. */
export const TRIGGER_PREFIX = 'triggers/';
/** One small object per MOUS that is being processed; created only if absent, so racing requests see each other. */
export const CLAIM_PREFIX = 'claims/';

/**
 * Triggers in S3. The trigger text is `triggers/<name>` (what operators read); the claim
 * `claims/<MOUS>.json` is written with `If-None-Match: *`, which AWS S3, LocalStack, Ceph RGW and the
 * embedded cloud's edge honour, so of two racing requests for one MOUS only one gets it.
 */
export class S3TriggerStore implements TriggerStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly log: Logger,
  ) {}

  async claim(trigger: TriggerRecord, text: string, force: boolean): Promise<ClaimResult> {
    const claimKey = `${CLAIM_PREFIX}${trigger.mous}.json`;
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: claimKey,
          Body: JSON.stringify(trigger),
          ContentType: 'application/json',
          IfNoneMatch: force ? undefined : '*',
        }),
      );
    } catch (error) {
      // 412: the claim exists. 409: another conditional write to the same key is in flight (AWS).
      const status = httpStatusOf(error);
      if (status === 412 || status === 409) {
        const existing = await this.readClaim(trigger.mous);
        this.log.info('trigger already active', { mous: trigger.mous, existingTrigger: existing?.name });
        if (existing) return { claimed: false, existing };
        return this.claim(trigger, text, force);
      }
      throw this.translate(error, `claiming MOUS ${trigger.mous}`);
    }
    try {
      await this.put(`${TRIGGER_PREFIX}${trigger.name}`, text, `writing trigger ${trigger.name}`, {
        'request-id': trigger.requestId,
      });
    } catch (error) {
      // Nothing was triggered, so the MOUS must not stay claimed: a claim without its trigger would turn every
      // later request for it away as a duplicate of a request that does not exist.
      await this.remove(trigger).catch((removal: unknown) =>
        this.log.error('claim left behind after the trigger could not be written', { mous: trigger.mous, error: removal }),
      );
      throw error;
    }
    this.log.info('trigger recorded', { mous: trigger.mous, trigger: trigger.name, force });
    return { claimed: true };
  }

  async remove(trigger: TriggerRecord): Promise<void> {
    await this.call(`removing trigger ${trigger.name}`, () =>
      this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${TRIGGER_PREFIX}${trigger.name}` })),
    );
    const claim = await this.readClaim(trigger.mous);
    if (claim?.requestId === trigger.requestId) {
      await this.call(`releasing MOUS ${trigger.mous}`, () =>
        this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${CLAIM_PREFIX}${trigger.mous}.json` })),
      );
    }
    this.log.info('trigger removed', { mous: trigger.mous, trigger: trigger.name });
  }

  async listActive(): Promise<TriggerRecord[]> {
    const records: TriggerRecord[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('listing active triggers', () =>
        this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: CLAIM_PREFIX, ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) {
        const mous = object.Key?.slice(CLAIM_PREFIX.length).replace(/\.json$/, '');
        const record = mous ? await this.readClaim(mous) : undefined;
        if (record) records.push(record);
      }
      token = page.NextContinuationToken;
    } while (token);
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private async readClaim(mous: string): Promise<TriggerRecord | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: `${CLAIM_PREFIX}${mous}.json` }));
      return JSON.parse(await object.Body!.transformToString()) as TriggerRecord;
    } catch (error) {
      if (httpStatusOf(error) === 404 || (error as Error).name === 'NoSuchKey') return undefined;
      throw this.translate(error, `reading the claim of MOUS ${mous}`);
    }
  }

  private async put(key: string, body: string, what: string, metadata: Record<string, string>): Promise<void> {
    await this.call(what, () =>
      this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'text/plain; charset=utf-8', Metadata: metadata })),
    );
  }

  private async call<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw this.translate(error, what);
    }
  }

  private translate(error: unknown, what: string): Error {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (isTransientAwsError(error) || !(error instanceof Error) || !('$metadata' in error)) {
      return new StorageUnavailableError(`S3 did not answer while ${what} (${detail})`, { cause: error });
    }
    return new TerminalError(`S3 refused ${what} (${detail})`, { cause: error });
  }
}
