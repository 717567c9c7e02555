import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { httpStatusOf } from '../aws/errors';
import { isMissingObject, objectExists } from '../aws/s3Objects';
import { StorageUnavailableError } from '../errors';
import type { SentMailLedger } from '../mail/SentMailLedger';

export const REQUEST_PREFIX = 'requests/';

/** What a record holds; a record of plain text (the Message-ID alone) was written after a confirmed send. */
interface SendRecord {
  readonly state: 'sending' | 'sent';
  readonly messageId: string;
}

/**
 * One object per email: `requests/<request id>/sent/<kind>`. The claim creates it with `If-None-Match: *`, so of
 * two senders exactly one wins (S3, Ceph RGW and the local cloud's edge honour the condition).
 */
export class S3SentMailLedger implements SentMailLedger {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async claim(requestId: string, kind: string, messageId: string): Promise<'claimed' | 'sending' | 'sent'> {
    try {
      await this.put(requestId, kind, { state: 'sending', messageId }, true);
      return 'claimed';
    } catch (error) {
      // 412: a record exists. 409: another conditional write of it is in flight (AWS).
      const status = httpStatusOf(error);
      if (status !== 412 && status !== 409)
        throw new StorageUnavailableError(`S3 did not record the intent to send the ${kind} email of ${requestId}`, { cause: error });
      return (await this.read(requestId, kind)) ?? (status === 409 ? 'sending' : this.claim(requestId, kind, messageId));
    }
  }

  async confirm(requestId: string, kind: string, messageId: string): Promise<void> {
    try {
      await this.put(requestId, kind, { state: 'sent', messageId }, false);
    } catch (error) {
      throw new StorageUnavailableError(`S3 did not record that the ${kind} email of ${requestId} was sent`, { cause: error });
    }
  }

  async release(requestId: string, kind: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(requestId, kind) }));
    } catch (error) {
      throw new StorageUnavailableError(`S3 did not withdraw the claim on the ${kind} email of ${requestId}`, { cause: error });
    }
  }

  async wasSent(requestId: string, kind: string): Promise<boolean> {
    try {
      return await objectExists(this.s3, this.bucket, this.key(requestId, kind));
    } catch (error) {
      throw new StorageUnavailableError(`S3 did not answer whether the ${kind} email of ${requestId} was sent`, { cause: error });
    }
  }

  private put(requestId: string, kind: string, record: SendRecord, onlyIfAbsent: boolean) {
    return this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.key(requestId, kind),
        Body: JSON.stringify(record),
        ContentType: 'application/json',
        ...(onlyIfAbsent ? { IfNoneMatch: '*' } : {}),
      }),
    );
  }

  /** The state of an existing record; undefined when there is none (it was released meanwhile). */
  private async read(requestId: string, kind: string): Promise<'sending' | 'sent' | undefined> {
    let text: string;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(requestId, kind) }));
      text = await object.Body!.transformToString('utf8');
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw new StorageUnavailableError(`S3 did not answer whether the ${kind} email of ${requestId} was sent`, { cause: error });
    }
    try {
      return (JSON.parse(text) as Partial<SendRecord>).state === 'sending' ? 'sending' : 'sent';
    } catch {
      return 'sent';
    }
  }

  private key(requestId: string, kind: string): string {
    return `${REQUEST_PREFIX}${requestId}/sent/${kind}`;
  }
}
