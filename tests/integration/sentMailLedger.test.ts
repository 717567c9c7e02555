/**
 * The S3 adapter of the sent-mail ledger against real servers: the local cloud's S3 (s3rver behind the edge, which
 * enforces If-None-Match) always, and Ceph RGW when CI has started it, each in a bucket of its own.
 */
import { S3SentMailLedger } from '../../lib/storage/S3SentMailLedger';
import { s3Backends } from './support/s3Backends';

const BACKENDS = s3Backends('calms-sent-mail');
const REQUEST = 't16140-uid___A001_X1296_X675-20261125T010000Z-ab12';
const MESSAGE_ID = `<reply.${REQUEST}@alma.local>`;

describe.each(BACKENDS)('sent-mail ledger on $name', (backend) => {
  it('lets one of two claims win, tells a claim in doubt from a confirmed send, and forgets a withdrawn claim', async () => {
    // Prepare
    const ledger = new S3SentMailLedger(backend.client(), await backend.bucket(backend.client()));

    // Act
    const racing = await Promise.all([ledger.claim(REQUEST, 'reply', MESSAGE_ID), ledger.claim(REQUEST, 'reply', MESSAGE_ID)]);
    const unconfirmed = await ledger.claim(REQUEST, 'reply', MESSAGE_ID);
    await ledger.confirm(REQUEST, 'reply', MESSAGE_ID);
    const confirmed = await ledger.claim(REQUEST, 'reply', MESSAGE_ID);
    const released = await ledger.claim(REQUEST, 'failure', MESSAGE_ID);
    await ledger.release(REQUEST, 'failure');
    const afterRelease = [await ledger.wasSent(REQUEST, 'failure'), await ledger.claim(REQUEST, 'failure', MESSAGE_ID)];

    // Assess
    expect(racing.sort()).toEqual(['claimed', 'sending']);
    expect([unconfirmed, confirmed, released]).toEqual(['sending', 'sent', 'claimed']);
    expect(afterRelease).toEqual([false, 'claimed']);
    expect(await ledger.wasSent(REQUEST, 'reply')).toBe(true);
  });
});
