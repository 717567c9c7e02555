/**
 * The data bucket's lifecycle rules, as the local cloud applies them at start; serverless.yml declares the same
 * rules for AWS and LocalStack (a template test keeps the two equal).
 */
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { RETENTION_TAG, RetentionValue } from './S3DeliveryStore';

/** Days after which an upload that never completed (a staging given up on) is discarded. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 2;

export function dataBucketLifecycleRules(retentionDays: number): LifecycleRule[] {
  return [
    {
      // Everything of a delivery carries the tag; keeping a delivery changes it, so the rule passes it by.
      ID: 'expire-deliveries',
      Status: 'Enabled',
      Filter: { Tag: { Key: RETENTION_TAG, Value: RetentionValue.Expire } },
      Expiration: { Days: retentionDays },
    },
    {
      ID: 'abort-incomplete-uploads',
      Status: 'Enabled',
      Filter: { Prefix: '' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS },
    },
  ];
}
