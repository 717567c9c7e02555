import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { objectExists } from '../aws/s3Objects';
import { StorageUnavailableError } from '../errors';
import type { SentMailLedger } from '../mail/SentMailLedger';

export const REQUEST_PREFIX = 'requests/';

/** One empty object per sent email: `requests/<request id>/sent/<kind>`. */
export class S3SentMailLedger implements SentMailLedger {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async wasSent(requestId: string, kind: string): Promise<boolean> {
    try {
      return await objectExists(this.s3, this.bucket, this.key(requestId, kind));
    } catch (error) {
      throw new StorageUnavailableError(`S3 did not answer whether the ${kind} email of ${requestId} was sent`, { cause: error });
    }
  }

  async recordSent(requestId: string, kind: string, messageId: string): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.key(requestId, kind), Body: messageId, ContentType: 'text/plain' }),
      );
    } catch (error) {
      throw new StorageUnavailableError(`S3 did not record that the ${kind} email of ${requestId} was sent`, { cause: error });
    }
  }

  private key(requestId: string, kind: string): string {
    return `${REQUEST_PREFIX}${requestId}/sent/${kind}`;
  }
}
