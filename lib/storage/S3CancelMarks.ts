import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { objectExists } from '../aws/s3Objects';
import { StorageUnavailableError } from '../errors';
import type { CancelMarks } from './CancelMarks';
import { REQUEST_PREFIX } from './S3SentMailLedger';

/** One object per cancelled request, beside its sent emails: `requests/<request id>/cancel`, holding when. */
export class S3CancelMarks implements CancelMarks {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async mark(requestId: string, at: Date): Promise<void> {
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(requestId), Body: at.toISOString(), ContentType: 'text/plain' }));
    } catch (error) {
      throw new StorageUnavailableError(`S3 did not record that ${requestId} is being cancelled`, { cause: error });
    }
  }

  async isMarked(requestId: string): Promise<boolean> {
    try {
      return await objectExists(this.s3, this.bucket, this.key(requestId));
    } catch (error) {
      throw new StorageUnavailableError(`S3 did not answer whether ${requestId} is being cancelled`, { cause: error });
    }
  }

  private key(requestId: string): string {
    return `${REQUEST_PREFIX}${requestId}/cancel`;
  }
}
