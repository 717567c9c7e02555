import type { Readable } from 'node:stream';
import type { JobLogStore } from '../../../lib/storage/JobLogStore';
import { Failures } from './failures';

/**
 * An in-memory `JobLogStore` that reads what it is given chunk by chunk, as S3's multipart upload does, keeping the
 * size and the largest chunk it saw (the unit a real store would hold in memory) rather than a copy of it all.
 */
export class InMemoryJobLogStore implements JobLogStore {
  readonly stored = new Map<string, { bytes: number; largestChunk: number; head: string }>();
  readonly failures = new Failures<'store'>();

  async store(requestId: string, name: string, log: Readable): Promise<{ location: string; bytes: number }> {
    this.failures.check('store');
    let bytes = 0;
    let largestChunk = 0;
    let head = '';
    for await (const chunk of log) {
      const buffer = Buffer.from(chunk as Buffer);
      if (head.length < 64) head += buffer.subarray(0, 64).toString('utf8');
      bytes += buffer.length;
      largestChunk = Math.max(largestChunk, buffer.length);
    }
    const key = `requests/${requestId}/${name}`;
    this.stored.set(key, { bytes, largestChunk, head });
    return { location: `s3://calms-data/${key}`, bytes };
  }
}
