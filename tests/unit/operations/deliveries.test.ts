/** `calms keep` (and `--undo`) and `calms resend` on fakes. */
import { StorageUnavailableError } from '../../../lib/errors';
import { keepDelivery, resendDownloadEmail } from '../../../lib/operations/deliveries';
import { requestStatus } from '../../../lib/operations/requests';
import { seedMousRequest } from '../fakes';
import { BASE_URL, calibratingStates, DAY, deliver, harness, NOW, publish, TOKEN } from './harness';

const REQUEST = seedMousRequest();

describe('keepDelivery', () => {
  it('keeps a delivery beyond its expiry, and undoing it lets it expire again', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { status: 'SUCCEEDED', states: [['Delivered', { request: REQUEST }]] });
    const manifest = await publish(h, REQUEST);

    // Act
    const kept = await keepDelivery(h.deps, REQUEST.requestId, true);
    const statusKept = await requestStatus(h.deps, REQUEST.requestId);
    const released = await keepDelivery(h.deps, REQUEST.requestId, false);
    const statusReleased = await requestStatus(h.deps, REQUEST.requestId);

    // Assess
    expect(kept).toEqual({
      status: 200,
      body: {
        requestId: REQUEST.requestId,
        link: `${BASE_URL}/downloads/${TOKEN}`,
        stagedAt: manifest.stagedAt,
        expiresAt: manifest.expiresAt,
        kept: true,
        expired: false,
      },
    });
    expect(statusKept.body).toMatchObject({ delivery: { kept: true } });
    expect(released).toMatchObject({ status: 200, body: { kept: false, expired: false } });
    expect(statusReleased.body).toMatchObject({ delivery: { kept: false } });
    expect(h.store.callsOf('setKept').map((call) => call.detail)).toEqual([{ kept: true }, { kept: false }]);
  });

  it('says a released delivery past its expiry has expired', async () => {
    // Prepare
    const h = harness();
    await publish(h, REQUEST, new Date(NOW.getTime() - 30 * DAY));
    await h.store.setKept(REQUEST.requestId, true);

    // Act
    const released = await keepDelivery(h.deps, REQUEST.requestId, false);

    // Assess
    expect(released).toMatchObject({ status: 200, body: { kept: false, expired: true } });
  });

  it.each([true, false])('answers 404 when the request has no delivery (kept %s)', async (kept) => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { states: calibratingStates(REQUEST) });

    // Act
    const result = await keepDelivery(h.deps, REQUEST.requestId, kept);

    // Assess
    expect(result).toEqual({
      status: 404,
      body: {
        error: {
          code: 'DELIVERY_NOT_FOUND',
          message: `Request ${REQUEST.requestId} has no delivery: it was never published, or it has expired and been deleted.`,
        },
      },
    });
  });

  it('lets a storage outage through', async () => {
    // Prepare
    const h = harness();
    await publish(h, REQUEST);
    h.store.failures.failNext('setKept', new StorageUnavailableError('S3 did not answer'));

    // Act
    const attempt = keepDelivery(h.deps, REQUEST.requestId, true);

    // Assess
    await expect(attempt).rejects.toThrow(StorageUnavailableError);
  });
});

describe('resendDownloadEmail', () => {
  it('sends the user the same email again under a Message-ID of its own, and counts the resends', async () => {
    // Prepare
    const h = harness();
    await deliver(h, REQUEST);
    const original = h.mailer.sent[0]!;

    // Act
    const first = await resendDownloadEmail(h.deps, REQUEST.requestId);
    const second = await resendDownloadEmail(h.deps, REQUEST.requestId);

    // Assess
    const resentId = (n: number) => REQUEST.requestMessageId.replace(/^</, `<resent-${n}.`);
    expect(first).toEqual({
      status: 200,
      body: {
        requestId: REQUEST.requestId,
        sentTo: 'judits@phys.ethz.ch',
        messageId: resentId(1),
        link: `${BASE_URL}/downloads/${TOKEN}`,
        resent: 1,
      },
    });
    expect(second).toMatchObject({ status: 200, body: { messageId: resentId(2), resent: 2 } });
    expect(h.mailer.sent).toHaveLength(3);
    expect(h.mailer.sent[1]).toEqual({ ...original, messageId: resentId(1) });
    expect(h.mailer.sent[2]).toEqual({ ...original, messageId: resentId(2) });
    expect(original.messageId).toBe(REQUEST.requestMessageId.replace(/^</, '<delivered.'));
  });

  it('tells the user the days left, not the whole retention, when it is sent again days later', async () => {
    // Prepare
    const h = harness();
    await deliver(h, REQUEST);
    h.setNow(new Date(NOW.getTime() + 20 * DAY + 3_600_000));

    // Act
    const result = await resendDownloadEmail(h.deps, REQUEST.requestId);

    // Assess
    expect(result).toMatchObject({ status: 200 });
    expect(h.mailer.sent[0]!.text).toContain('\nIt will be deleted 28 days from now.\n');
    expect(h.mailer.sent[1]!.text).toContain('\nIt will be deleted 8 days from now.\n');
  });

  it('answers 409 for a request that was not delivered, naming where it is', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { states: calibratingStates(REQUEST) });

    // Act
    const result = await resendDownloadEmail(h.deps, REQUEST.requestId);

    // Assess
    expect(result).toEqual({
      status: 409,
      body: {
        error: {
          code: 'NOT_DELIVERED',
          message: `Request ${REQUEST.requestId} has not been delivered (RUNNING, WaitForCalibrationJob): the user was never sent a download email.`,
        },
      },
    });
    expect(h.mailer.sent).toEqual([]);
  });

  it('answers 409 when the delivery has been deleted or has expired, but resends a kept one past its expiry', async () => {
    // Prepare
    const h = harness();
    await deliver(h, REQUEST);
    h.setNow(new Date(NOW.getTime() + 29 * DAY));

    // Act
    const expired = await resendDownloadEmail(h.deps, REQUEST.requestId);
    await h.store.setKept(REQUEST.requestId, true);
    const kept = await resendDownloadEmail(h.deps, REQUEST.requestId);
    h.store.expire(REQUEST.requestId);
    const removed = await resendDownloadEmail(h.deps, REQUEST.requestId);

    // Assess
    expect(expired).toMatchObject({ status: 409, body: { error: { code: 'DELIVERY_EXPIRED' } } });
    expect(kept).toMatchObject({ status: 200, body: { resent: 1 } });
    expect(h.mailer.sent[1]!.text).toContain('\nIt will be kept until further notice.\n');
    expect(removed).toMatchObject({ status: 409, body: { error: { code: 'DELIVERY_REMOVED' } } });
    expect(h.mailer.sent).toHaveLength(2);
  });

  it('answers 404 for an unknown request', async () => {
    // Prepare
    const h = harness();

    // Act
    const result = await resendDownloadEmail(h.deps, 't1-unknown');

    // Assess
    expect(result).toMatchObject({ status: 404, body: { error: { code: 'REQUEST_NOT_FOUND' } } });
  });
});
