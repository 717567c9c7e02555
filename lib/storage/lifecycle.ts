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

/** The data bucket's lifecycle rules as S3 holds them now; empty when it holds none. */
export interface BucketLifecycle {
  rules(): Promise<readonly LifecycleRule[]>;
}

/**
 * What of a rule decides what it deletes, whichever spelling S3 answers it in (a filter, the legacy top-level
 * prefix, a single tag or an `And` of one), so that a rule put by CloudFormation compares equal to its source.
 */
function effectOf(rule: LifecycleRule): Record<string, string | number | undefined> {
  const and = rule.Filter?.And;
  const tags = rule.Filter?.Tag ? [rule.Filter.Tag] : (and?.Tags ?? []);
  return {
    status: rule.Status,
    prefix: rule.Filter?.Prefix ?? and?.Prefix ?? rule.Prefix ?? '',
    tags: tags.map((tag) => `${tag.Key}=${tag.Value}`).join(', ') || undefined,
    'expiry days': rule.Expiration?.Days,
    'days before an incomplete upload is aborted': rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
  };
}

/** How the rules `actual` fall short of `expected`, one phrase per difference; empty when every rule is there as expected. */
export function lifecycleDifferences(expected: readonly LifecycleRule[], actual: readonly LifecycleRule[]): string[] {
  return expected.flatMap((rule) => {
    const found = actual.find((candidate) => candidate.ID === rule.ID);
    if (!found) return [`no rule ${rule.ID}`];
    const want = effectOf(rule);
    const have = effectOf(found);
    return Object.keys(want)
      .filter((aspect) => want[aspect] !== have[aspect])
      .map((aspect) => `rule ${rule.ID}: ${aspect} ${JSON.stringify(have[aspect] ?? null)}, expected ${JSON.stringify(want[aspect] ?? null)}`);
  });
}
