import { GetBucketLifecycleConfigurationCommand, type LifecycleRule, type S3Client } from '@aws-sdk/client-s3';
import { storageFailure } from '../aws/s3Objects';
import type { BucketLifecycle } from './lifecycle';

export class S3BucketLifecycle implements BucketLifecycle {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async rules(): Promise<readonly LifecycleRule[]> {
    try {
      const answer = await this.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: this.bucket }));
      return answer.Rules ?? [];
    } catch (error) {
      if ((error as Error).name === 'NoSuchLifecycleConfiguration') return [];
      throw storageFailure(`read the lifecycle rules of ${this.bucket}`, error);
    }
  }
}
