import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { monthOf, type MonthRange, type OutcomeRecord } from '../domain/statistics';
import { readJsonObject, s3Call } from '../aws/s3Objects';
import type { StatisticsStore } from './StatisticsStore';

export const STATISTICS_PREFIX = 'statistics/';

/** Objects read at once when listing: enough to be quick, few enough not to flood the S3 endpoint. */
const READS_AT_ONCE = 16;

/**
 * One JSON object per request: `statistics/<YYYY-MM of requestedAt, UTC>/<request id>.json`. Untagged, so the
 * lifecycle rule (which expires only objects tagged calms-retention=expire) leaves them. The month in the key
 * lets a listing start and stop at the range's months.
 */
export class S3StatisticsStore implements StatisticsStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async record(record: OutcomeRecord): Promise<void> {
    const key = `${STATISTICS_PREFIX}${monthOf(record.requestedAt)}/${record.requestId}.json`;
    await s3Call(`record the outcome of ${record.requestId}`, () =>
      this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(record), ContentType: 'application/json' })),
    );
  }

  async list(range: MonthRange): Promise<OutcomeRecord[]> {
    const keys = await this.keysIn(range);
    const records: OutcomeRecord[] = [];
    for (let start = 0; start < keys.length; start += READS_AT_ONCE) {
      const batch = await Promise.all(
        keys.slice(start, start + READS_AT_ONCE).map((key) => readJsonObject<OutcomeRecord>(this.s3, this.bucket, key)),
      );
      // A key listed and gone before it was read: nothing deletes records, but a listing may be stale.
      records.push(...batch.filter((record): record is OutcomeRecord => record !== undefined));
    }
    return records;
  }

  private async keysIn(range: MonthRange): Promise<string[]> {
    const keys: string[] = [];
    // Keys sort by month: start just before the first month's keys, stop after the last month's.
    const startAfter = range.from ? `${STATISTICS_PREFIX}${range.from}` : undefined;
    let token: string | undefined;
    do {
      const page = await s3Call('list the request outcomes', () =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: STATISTICS_PREFIX,
            ContinuationToken: token,
            ...(token ? {} : { StartAfter: startAfter }),
          }),
        ),
      );
      for (const { Key: key } of page.Contents ?? []) {
        if (!key?.endsWith('.json')) continue;
        if (range.to && key.slice(STATISTICS_PREFIX.length, STATISTICS_PREFIX.length + 7) > range.to) return keys;
        keys.push(key);
      }
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }
}
