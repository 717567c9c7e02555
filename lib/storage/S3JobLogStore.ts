import { type Readable, Transform } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { StorageUnavailableError } from '../errors';
import type { JobLogStore } from './JobLogStore';
import { REQUEST_PREFIX } from './S3SentMailLedger';

/** The smallest part S3 accepts, one at a time: the log passes through 5 MiB of memory whatever its size. */
const PART_BYTES = 5 * 1024 * 1024;

/** `requests/<request id>/<name>` in the data bucket, beside the request's sent-mail records. */
export class S3JobLogStore implements JobLogStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async store(requestId: string, name: string, log: Readable): Promise<{ location: string; bytes: number }> {
    const key = `${REQUEST_PREFIX}${requestId}/${name}`;
    let bytes = 0;
    let readFailure: Error | undefined;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    log.on('error', (error) => {
      readFailure = error;
      counted.destroy(error);
    });
    log.pipe(counted);
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: counted, ContentType: 'text/plain; charset=utf-8' },
      partSize: PART_BYTES,
      queueSize: 1,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      log.destroy();
      // The node stopped sending: its own error, which says so, rather than the store's.
      if (readFailure) throw readFailure;
      throw new StorageUnavailableError(`the job log of ${requestId} could not be stored as ${key}: ${(error as Error).message}`, { cause: error });
    }
    return { location: `s3://${this.bucket}/${key}`, bytes };
  }
}
