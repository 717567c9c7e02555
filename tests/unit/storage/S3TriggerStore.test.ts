/**
 * What S3TriggerStore does when S3 fails between the claim and the trigger text. The local S3 servers cannot be
 * made to fail one write of two, so the client is mocked; the claim and race behaviour is tested against them in
 * tests/integration/intake.test.ts.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { StorageUnavailableError } from '../../../lib/errors';
import { S3TriggerStore } from '../../../lib/storage/S3TriggerStore';
import type { TriggerRecord } from '../../../lib/storage/TriggerStore';
import { RecordingLogger } from '../fakes/logger';

const BUCKET = 'calms-test';
const TRIGGER: TriggerRecord = {
  name: 'trigger-uid___A001_X1296_X675-2026-11-25T10-00-00.txt',
  mous: 'uid___A001_X1296_X675',
  requestId: '16140-uid___A001_X1296_X675-20261125T100000Z-ab12',
  createdAt: '2026-11-25T10:00:00Z',
};
const CLAIM_KEY = 'claims/uid___A001_X1296_X675.json';
const TRIGGER_KEY = `triggers/${TRIGGER.name}`;

/** The one method of a response body that the store reads. */
const bodyOf = (text: string) => ({ transformToString: async () => text }) as never;
const networkError = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });

describe('S3TriggerStore.claim when the trigger text cannot be written', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());
  const store = (log = new RecordingLogger()) => new S3TriggerStore(new S3Client({ region: 'us-east-1' }), BUCKET, log);
  /** The claim is written, the trigger text is not; the claim then reads as `holder`'s. */
  const triggerTextFails = (holder: TriggerRecord) => {
    s3.on(PutObjectCommand, { Key: CLAIM_KEY }).resolves({ ETag: '"claim"' });
    s3.on(PutObjectCommand, { Key: TRIGGER_KEY }).rejects(networkError());
    s3.on(GetObjectCommand, { Key: CLAIM_KEY }).callsFake(() => ({ Body: bodyOf(JSON.stringify(holder)) }));
  };
  const deletedKeys = () => s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input.Key);

  it('releases the claim it made, so the MOUS is not turned away later as a duplicate, and reports S3 unavailable', async () => {
    // Prepare
    triggerTextFails(TRIGGER);
    s3.on(DeleteObjectCommand).resolves({});

    // Act
    const claiming = store().claim(TRIGGER, 'the trigger text', false);

    // Assert
    await expect(claiming).rejects.toThrow(StorageUnavailableError);
    expect(deletedKeys()).toContain(CLAIM_KEY);
  });

  it('leaves a claim alone that another (forced) request has taken since', async () => {
    // Prepare
    const later = { ...TRIGGER, requestId: '16141-uid___A001_X1296_X675-20261125T100001Z-cd34' };
    triggerTextFails(later);
    s3.on(DeleteObjectCommand).resolves({});

    // Act
    const claiming = store().claim(TRIGGER, 'the trigger text', true);

    // Assert
    await expect(claiming).rejects.toThrow(StorageUnavailableError);
    expect(deletedKeys()).not.toContain(CLAIM_KEY);
  });

  it('still reports the failed trigger write, and logs the claim left behind, when releasing the claim fails too', async () => {
    // Prepare
    const log = new RecordingLogger();
    triggerTextFails(TRIGGER);
    s3.on(DeleteObjectCommand).rejects(networkError());

    // Act
    const claiming = store(log).claim(TRIGGER, 'the trigger text', false);

    // Assert
    await expect(claiming).rejects.toThrow(/writing trigger trigger-uid___A001_X1296_X675/);
    expect(log.messages('error')).toEqual(['claim left behind after the trigger could not be written']);
  });
});
