/**
 * The S3 adapter of the cancel marks against real servers: the local cloud's S3 (s3rver behind the edge)
 * always, and Ceph RGW when CI has started it (see .ci/ceph.sh), each in a bucket of its own.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { S3CancelMarks } from '../../lib/storage/S3CancelMarks';
import { s3Backends } from './support/s3Backends';

const BACKENDS = s3Backends('calms-cancel-marks');

describe.each(BACKENDS)('cancel marks on $name', (backend) => {
  it('marks one request beside its sent emails, and only that one; marking again is harmless', async () => {
    // Prepare
    const client = backend.client();
    const bucket = await backend.bucket(client);
    const marks = new S3CancelMarks(client, bucket);
    const cancelled = 't16140-uid___A001_X1296_X675-20261125T010000Z-ab12';
    const other = 't16140-uid___A001_X1296_X675-20261125T010001Z-cd34';

    // Act
    const before = await marks.isMarked(cancelled);
    await marks.mark(cancelled, new Date('2026-11-25T01:00:05Z'));
    await marks.mark(cancelled, new Date('2026-11-25T01:00:09Z'));

    // Assess
    expect([before, await marks.isMarked(cancelled), await marks.isMarked(other)]).toEqual([false, true, false]);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((listed.Contents ?? []).map((object) => object.Key)).toEqual([`requests/${cancelled}/cancel`]);
  });
});
