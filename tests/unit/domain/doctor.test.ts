/** The smoke check's results: the line each prints, the API's own check, and what the CLI accepts as a report. */
import { apiCheck, checkLine, isDoctorReport } from '../../../lib/domain/doctor';
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { lifecycleDifferences, dataBucketLifecycleRules } from '../../../lib/storage/lifecycle';

const URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod';

describe('checkLine', () => {
  it('prints a pass as "ok" with what was found, and a failure as "FAIL" with the fix, on one line', () => {
    expect(checkLine({ name: 'archive', ok: true, detail: 'answers a lookup' })).toBe('ok    archive: answers a lookup');
    expect(checkLine({ name: 'SSH n:22', ok: false, detail: 'n:22: connection\nrefused', fix: 'Start the node.' })).toBe(
      'FAIL  SSH n:22: n:22: connection refused Fix: Start the node.',
    );
  });
});

describe('apiCheck', () => {
  it.each([
    [{ kind: 'answered' } as const, true, 'answers with the API key', undefined],
    [{ kind: 'unreachable', message: 'fetch failed (ECONNREFUSED)' } as const, false, 'fetch failed (ECONNREFUSED)', /CALMS_API_URL/],
    [{ kind: 'status', status: 403, message: 'Forbidden' } as const, false, 'refused the API key (HTTP 403)', /CALMS_API_KEY/],
    [{ kind: 'status', status: 404, message: '' } as const, false, 'has no GET /doctor (HTTP 404)', /deploying again/],
    [
      { kind: 'status', status: 500, message: 'CALMS_SMTP_HOST is not set' } as const,
      false,
      'the server-side checks did not run (HTTP 500: CALMS_SMTP_HOST is not set)',
      /calms-<stage>-doctor/,
    ],
  ])('%j', (outcome, ok, detail, fix) => {
    const result = apiCheck(URL, outcome);
    expect(result).toEqual({ name: `API ${URL}`, ok, detail, ...(fix ? { fix: expect.stringMatching(fix) } : {}) });
  });
});

describe('isDoctorReport', () => {
  it('takes checks with a fix exactly where they failed, and nothing else', () => {
    expect(
      isDoctorReport({
        checks: [
          { name: 'a', ok: true, detail: 'd' },
          { name: 'b', ok: false, detail: 'd', fix: 'f' },
        ],
      }),
    ).toBe(true);
    expect(isDoctorReport({ checks: [{ name: 'b', ok: false, detail: 'd' }] })).toBe(false);
    expect(isDoctorReport({ checks: [{ name: 'a', ok: 'yes', detail: 'd' }] })).toBe(false);
    expect(isDoctorReport({ results: [] })).toBe(false);
  });
});

describe('lifecycleDifferences', () => {
  const expected = dataBucketLifecycleRules(28);

  it('finds none in the rules as S3 answers them for CloudFormation (a tag in an And, the legacy top-level prefix)', () => {
    const [expire, abort] = expected;
    const asAnswered: LifecycleRule[] = [
      { ID: 'something-else', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } },
      { ...expire!, Filter: { And: { Tags: [expire!.Filter!.Tag!] } } },
      { ID: abort!.ID, Status: 'Enabled', Prefix: '', AbortIncompleteMultipartUpload: abort!.AbortIncompleteMultipartUpload },
    ];
    expect(lifecycleDifferences(expected, asAnswered)).toEqual([]);
  });

  it('names a missing rule, a disabled one and a changed expiry', () => {
    const [expire, abort] = expected;
    expect(lifecycleDifferences(expected, [])).toEqual(['no rule expire-deliveries', 'no rule abort-incomplete-uploads']);
    expect(
      lifecycleDifferences(expected, [
        { ...expire!, Expiration: { Days: 7 } },
        { ...abort!, Status: 'Disabled' },
      ]),
    ).toEqual(['rule expire-deliveries: expiry days 7, expected 28', 'rule abort-incomplete-uploads: status "Disabled", expected "Enabled"']);
  });

  it('names a rule that deletes more than it should: without its tag, or under a prefix', () => {
    const [expire] = expected;
    expect(lifecycleDifferences([expire!], [{ ...expire!, Filter: { Prefix: 'deliveries/' } }])).toEqual([
      'rule expire-deliveries: prefix "deliveries/", expected ""',
      'rule expire-deliveries: tags null, expected "calms-retention=expire"',
    ]);
  });
});
