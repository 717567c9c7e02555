/**
 * The real S3 of CI: a Ceph RADOS Gateway started by .ci/ceph.sh, which exports CALMS_TEST_CEPH_*. Storage tests
 * run against it when CALMS_TEST_CEPH_ENDPOINT is set and are skipped otherwise (as root: eval "$(.ci/ceph.sh)").
 *
 * Where this gateway (Ceph 16.2 pacific) differs from AWS S3:
 * - PutObject IfMatch must be the bare ETag: the quoted ETag the SDK returns never matches (412).
 * - CompleteMultipartUpload returns an empty ETag; HeadObject has it.
 * - Tags of CreateMultipartUpload and of CopyObject's TaggingDirective REPLACE are ignored; set them afterwards
 *   with PutObjectTagging.
 * - A lifecycle "day" lasts `lcDaySeconds`; an object expires one to two such days after it qualifies.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

export interface CephSettings {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Seconds in a lifecycle rule's day (rgw lc debug interval). */
  readonly lcDaySeconds: number;
}

/** The gateway announced by the environment, or undefined when CALMS_TEST_CEPH_ENDPOINT is not set. */
export function cephSettings(): CephSettings | undefined {
  const endpoint = process.env.CALMS_TEST_CEPH_ENDPOINT;
  if (!endpoint) return undefined;
  const required = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set although CALMS_TEST_CEPH_ENDPOINT is: eval the whole output of .ci/ceph.sh`);
    return value;
  };
  const lcDaySeconds = Number(required('CALMS_TEST_CEPH_LC_DAY_SECONDS'));
  if (!Number.isInteger(lcDaySeconds) || lcDaySeconds <= 0)
    throw new Error(`CALMS_TEST_CEPH_LC_DAY_SECONDS is not a positive integer: ${lcDaySeconds}`);
  return {
    endpoint,
    accessKeyId: required('CALMS_TEST_CEPH_ACCESS_KEY_ID'),
    secretAccessKey: required('CALMS_TEST_CEPH_SECRET_ACCESS_KEY'),
    lcDaySeconds,
  };
}

/** Settings that must be there: for code that only runs inside `describeWithCeph`. */
function requiredCephSettings(): CephSettings {
  const settings = cephSettings();
  if (!settings) throw new Error('CALMS_TEST_CEPH_ENDPOINT is not set (as root: eval "$(.ci/ceph.sh)")');
  return settings;
}

/** A client for the gateway: path-style, and checksums only where an operation requires them. */
export function cephS3Client(settings: CephSettings = requiredCephSettings()): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
  });
}

/** Creates a bucket of its own for one test, named from `prefix` (lowercase letters, digits and hyphens). */
export async function createTestBucket(client: S3Client, prefix: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(prefix)) throw new Error(`not a bucket name prefix: ${JSON.stringify(prefix)}`);
  const bucket = `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** `describe` when the gateway is there, otherwise `describe.skip` with the reason in the name. */
export function describeWithCeph(name: string, tests: () => void): void {
  const settings = cephSettings();
  if (settings) describe(`${name} against Ceph RGW at ${settings.endpoint}`, tests);
  else describe.skip(`${name}: SKIPPED, CALMS_TEST_CEPH_ENDPOINT not set (as root: eval "$(.ci/ceph.sh)")`, tests);
}
