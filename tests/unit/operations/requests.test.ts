/** `calms status` and `calms triggers` on fakes: what Step Functions and the delivery say about requests. */
import { mousRequest } from '../../../lib/domain/request';
import { activeTriggers, findRequests, requestStatus } from '../../../lib/operations/requests';
import { StorageUnavailableError } from '../../../lib/errors';
import { SEED_TICKET, seedMousRequest, TEST_MAIL_DOMAIN } from '../fakes';
import { BASE_URL, calibratingStates, DAY, deliver, harness, NOW, publish, TOKEN, triggerOf } from './harness';

const REQUEST = seedMousRequest();

describe('requestStatus', () => {
  it('shows a running request: its state, ticket, MOUS, user and start, no delivery and no failure', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { states: calibratingStates(REQUEST) });

    // Act
    const result = await requestStatus(h.deps, REQUEST.requestId);

    // Assess
    expect(result).toEqual({
      status: 200,
      body: {
        requestId: REQUEST.requestId,
        executionArn: expect.stringContaining(`:execution:calms-test:${REQUEST.requestId}`),
        status: 'RUNNING',
        state: 'WaitForCalibrationJob',
        ticket: '16140',
        mous: 'uid___A001_X1296_X675',
        projectCode: '2017.1.00727.S',
        user: { name: 'Judit Szulagyi', email: 'judits@phys.ethz.ch' },
        arcContact: 'evkampe@eso.org',
        calibratorFields: ['J0510+1800', 'J0321+1234'],
        requestedAt: REQUEST.requestedAt,
        triggerName: REQUEST.triggerName,
        startedAt: REQUEST.requestedAt,
      },
    });
  });

  it('shows a delivered request with its link, expiry and whether it is kept', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, {
      status: 'SUCCEEDED',
      states: [
        ['EmailDownloadLink', { request: REQUEST }],
        ['Delivered', { request: REQUEST }],
      ],
    });
    const manifest = await publish(h, REQUEST);

    // Act
    const before = await requestStatus(h.deps, REQUEST.requestId);
    await h.store.setKept(REQUEST.requestId, true);
    const kept = await requestStatus(h.deps, REQUEST.requestId);

    // Assess
    expect(before.body).toMatchObject({
      status: 'SUCCEEDED',
      state: 'Delivered',
      stoppedAt: expect.any(String),
      delivery: { link: `${BASE_URL}/downloads/${TOKEN}`, stagedAt: manifest.stagedAt, expiresAt: manifest.expiresAt, kept: false, expired: false },
    });
    expect(before.body).not.toHaveProperty('failure');
    expect(kept.body).toMatchObject({ delivery: { kept: true, expired: false } });
  });

  it('says whether the user was sent the download email of a published delivery', async () => {
    // Prepare: published, and the email not yet sent; then delivered by the real step.
    const h = harness();
    h.executions.add(REQUEST, { states: [['EmailDownloadLink', { request: REQUEST }]] });
    await publish(h, REQUEST);
    const published = await requestStatus(h.deps, REQUEST.requestId);
    await deliver(h, REQUEST);

    // Act
    const delivered = await requestStatus(h.deps, REQUEST.requestId);

    // Assess
    expect(published.body).toMatchObject({ status: 'RUNNING', delivery: { kept: false }, downloadEmailSent: false });
    expect(delivered.body).toMatchObject({ status: 'SUCCEEDED', delivery: { kept: false }, downloadEmailSent: true });
  });

  it('says a delivery past its expiry has expired, unless it is kept', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { status: 'SUCCEEDED', states: [['Delivered', { request: REQUEST }]] });
    await publish(h, REQUEST, new Date(NOW.getTime() - 29 * DAY));

    // Act
    const expired = await requestStatus(h.deps, REQUEST.requestId);
    await h.store.setKept(REQUEST.requestId, true);
    const kept = await requestStatus(h.deps, REQUEST.requestId);

    // Assess
    expect(expired.body).toMatchObject({ delivery: { kept: false, expired: true } });
    expect(kept.body).toMatchObject({ delivery: { kept: true, expired: false } });
  });

  it('shows why a failed request failed, the cause made readable', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, {
      status: 'FAILED',
      states: [
        ['CheckEntitlement', { request: REQUEST }],
        ['NotifyMaintainerOfFailure', { request: REQUEST }],
        ['RequestFailed', {}],
      ],
      error: 'ArchiveError',
      cause: JSON.stringify({ errorType: 'ArchiveError', errorMessage: 'the archive answered nonsense', trace: [] }),
    });

    // Act
    const result = await requestStatus(h.deps, REQUEST.requestId);

    // Assess
    expect(result.body).toMatchObject({
      status: 'FAILED',
      state: 'RequestFailed',
      failure: { error: 'ArchiveError', cause: 'the archive answered nonsense' },
    });
    expect((result.body as { endedBy?: string }).endedBy).toBe('reported failure');
  });

  it.each([
    ['ABORTED', false, 'stop'],
    ['ABORTED', true, 'cancel'],
    ['TIMED_OUT', false, 'timeout'],
    ['FAILED', false, 'uncaught failure'],
  ] as const)('says what ended a request %s in its calibration (cancel mark: %s): %s', async (status, marked, expected) => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST, { status, states: calibratingStates(REQUEST) });
    if (marked) await h.cancelMarks.mark(REQUEST.requestId, NOW);

    // Act
    const result = await requestStatus(h.deps, REQUEST.requestId);

    // Assess
    expect(result.body).toMatchObject({ status, state: 'WaitForCalibrationJob', endedBy: expected });
  });

  it('answers 404 for a request id Step Functions does not know, 400 for one that cannot be a request id', async () => {
    // Prepare
    const h = harness();

    // Act
    const unknown = await requestStatus(h.deps, 't1-nothing-here');
    const invalid = await requestStatus(h.deps, 't1/../x');

    // Assess
    expect(unknown).toEqual({
      status: 404,
      body: { error: { code: 'REQUEST_NOT_FOUND', message: expect.stringContaining('There is no request t1-nothing-here.') } },
    });
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_ERROR', field: 'requestId' } } });
  });

  it('lets a storage outage through for the handler to answer 503', async () => {
    // Prepare
    const h = harness();
    h.executions.add(REQUEST);
    h.store.failures.failNext('readManifest', new StorageUnavailableError('S3 did not answer'));

    // Act
    const attempt = requestStatus(h.deps, REQUEST.requestId);

    // Assess
    await expect(attempt).rejects.toThrow(StorageUnavailableError);
  });
});

describe('findRequests', () => {
  const at = (minutes: number) => new Date(NOW.getTime() - 3_600_000 + minutes * 60_000);
  const ticket = (helpdeskTicket: string, mous: string[]) => ({ ...SEED_TICKET, helpdeskTicket, mous });
  const first = mousRequest(ticket('16140', ['uid___A001_X1296_X675']), 'uid___A001_X1296_X675', at(0), 'aa11', TEST_MAIL_DOMAIN);
  const second = mousRequest(ticket('16140', ['uid___A001_X1296_X676']), 'uid___A001_X1296_X676', at(1), 'bb22', TEST_MAIL_DOMAIN);
  const otherTicket = mousRequest(ticket('161400', ['uid___A001_X1296_X675']), 'uid___A001_X1296_X675', at(2), 'cc33', TEST_MAIL_DOMAIN);

  function withThree() {
    const h = harness();
    for (const request of [first, second, otherTicket]) h.executions.add(request, { startedAt: request.requestedAt });
    return h;
  }

  it('finds the requests of a helpdesk ticket, newest first, and no other ticket that starts alike', async () => {
    // Prepare
    const h = withThree();

    // Act
    const result = await findRequests(h.deps, { ticket: '16140' });

    // Assess
    expect(result.status).toBe(200);
    expect((result.body as { requests: { requestId: string }[] }).requests.map((request) => request.requestId)).toEqual([
      second.requestId,
      first.requestId,
    ]);
  });

  it('finds the requests of a MOUS given in either form', async () => {
    // Prepare
    const h = withThree();

    // Act
    const byUri = await findRequests(h.deps, { mous: 'uid://A001/X1296/X675' });
    const byName = await findRequests(h.deps, { mous: 'uid___A001_X1296_X675' });

    // Assess
    const ids = (result: typeof byUri) => (result.body as { requests: { requestId: string }[] }).requests.map((request) => request.requestId);
    expect(ids(byUri)).toEqual([otherTicket.requestId, first.requestId]);
    expect(ids(byName)).toEqual(ids(byUri));
  });

  it('answers an empty list when nothing matches', async () => {
    // Prepare
    const h = withThree();

    // Act
    const result = await findRequests(h.deps, { ticket: '99' });

    // Assess
    expect(result).toEqual({ status: 200, body: { requests: [] } });
  });

  it.each([
    [{}, 'query'],
    [{ ticket: '16140', mous: 'uid___A001_X1296_X675' }, 'query'],
    [{ ticket: '16140a' }, 'ticket'],
    [{ mous: 'A001/X1296/X675' }, 'mous'],
  ])('refuses %j naming the field %s', async (query, field) => {
    // Prepare
    const h = withThree();

    // Act
    const result = await findRequests(h.deps, query);

    // Assess
    expect(result).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_ERROR', field } } });
  });
});

describe('activeTriggers', () => {
  it('lists the active triggers, oldest first', async () => {
    // Prepare
    const h = harness();
    const later = seedMousRequest({ helpdeskTicket: '16141', mous: ['uid___A001_X1296_X676'] });
    h.triggers.seed({ ...triggerOf(later), createdAt: '2026-11-24T11:00:00.000Z' });
    h.triggers.seed(triggerOf(REQUEST));

    // Act
    const result = await activeTriggers(h.deps);

    // Assess
    expect(result).toEqual({ status: 200, body: { triggers: [triggerOf(REQUEST), { ...triggerOf(later), createdAt: '2026-11-24T11:00:00.000Z' }] } });
  });
});
