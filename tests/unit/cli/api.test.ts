import { type FetchFunction, getQueue, readAnswer, type ResolvedRequest, requestBody, requestsUrl } from '../../../lib/cli/api';

const ARGS: ResolvedRequest = {
  projectCode: '2017.1.00727.S',
  userName: 'Judit Szulagyi',
  userEmail: 'judits@phys.ethz.ch',
  helpdeskTicket: '16140',
  mous: 'uid://A001/X1296/X675',
  calibratorFields: [],
  arcContact: 'evkampe@eso.org',
  force: false,
  abortOnDuplicate: false,
};

describe('requestBody', () => {
  it('leaves calibratorFields out when none were given', () => {
    // Prepare: ARGS has no fields

    // Act
    const body = requestBody(ARGS, [ARGS.mous], false);

    // Assess
    expect(body).not.toHaveProperty('calibratorFields');
    expect(body).toMatchObject({ mous: ['uid://A001/X1296/X675'], force: false });
  });

  it('includes the calibrator fields and the given force', () => {
    // Prepare
    const args = { ...ARGS, calibratorFields: ['J0510+1800', 'J0321+1234'] };

    // Act
    const body = requestBody(args, ['uid___A001_X1296_X675'], true);

    // Assess
    expect(body).toMatchObject({ mous: ['uid___A001_X1296_X675'], calibratorFields: ['J0510+1800', 'J0321+1234'], force: true });
  });
});

describe('requestsUrl', () => {
  it.each([
    ['http://127.0.0.1:3000/local', 'http://127.0.0.1:3000/local/requests'],
    ['https://api.example.org/dev/', 'https://api.example.org/dev/requests'],
  ])('%s → %s', (base, url) => {
    // Prepare: nothing beyond the base

    // Act
    const result = requestsUrl(base);

    // Assess
    expect(result).toBe(url);
  });
});

describe('readAnswer', () => {
  it('reads a results body', () => {
    // Prepare
    const accepted = { mous: 'uid___A001_X1296_X675', outcome: 'accepted', requestId: 'r', executionArn: 'arn', triggerName: 't' };

    // Act
    const answer = readAnswer(202, JSON.stringify({ helpdeskTicket: '16140', results: [accepted] }));

    // Assess
    expect(answer).toEqual({ kind: 'results', status: 202, results: [accepted] });
  });

  it('reads an error body, with its field', () => {
    // Prepare
    const text = JSON.stringify({ error: { code: 'VALIDATION_ERROR', field: 'mous[0]', message: 'bad' } });

    // Act
    const answer = readAnswer(400, text);

    // Assess
    expect(answer).toEqual({ kind: 'error', status: 400, code: 'VALIDATION_ERROR', field: 'mous[0]', message: 'bad' });
  });

  it.each([
    ['not JSON', 'Internal Server Error'],
    ['a result without its trigger name', JSON.stringify({ results: [{ mous: 'm', outcome: 'accepted', requestId: 'r', executionArn: 'a' }] })],
    ['an unknown outcome', JSON.stringify({ results: [{ mous: 'm', outcome: 'queued' }] })],
    ['no results', JSON.stringify({ results: [] })],
    ['an API Gateway message', JSON.stringify({ message: 'Forbidden' })],
  ])('calls %s unexpected', (_what, text) => {
    // Prepare: nothing beyond the text

    // Act
    const answer = readAnswer(500, text);

    // Assess
    expect(answer).toEqual({ kind: 'unexpected', status: 500, text });
  });
});

describe('getQueue', () => {
  const TARGET = { apiUrl: 'http://calms.test/dev', apiKey: 'k' };
  /** A fetch that gives every call this answer. */
  const answering =
    (status: number, text: string): FetchFunction =>
    async () =>
      new Response(text, { status });

  const HOLDER = {
    requestId: 't16140-uid___A001_X1296_X675-20261124T232106Z-ab12',
    helpdeskTicket: '16140',
    mous: 'uid___A001_X1296_X675',
    arrivedAt: '2026-11-24T23:21:00.000Z',
    acquiredAt: '2026-11-24T23:21:06.000Z',
    leaseUntil: '2026-11-24T23:51:06.000Z',
  };
  const WAITING = {
    requestId: 't16267-r',
    helpdeskTicket: '16267',
    mous: 'uid___A001_X133d_X3cf3',
    arrivedAt: '2026-11-24T23:21:20.000Z',
    position: 1,
  };

  it('reads the queue view', async () => {
    // Prepare
    const view = { slots: 2, holders: [HOLDER], waiting: [WAITING] };

    // Act
    const answer = await getQueue(answering(200, JSON.stringify(view)), TARGET);

    // Assess
    expect(answer).toEqual({ kind: 'ok', status: 200, value: view });
  });

  it('reads an error body', async () => {
    // Prepare
    const text = JSON.stringify({ error: { code: 'SERVICE_UNAVAILABLE', message: 'S3 did not answer' } });

    // Act
    const answer = await getQueue(answering(503, text), TARGET);

    // Assess
    expect(answer).toEqual({ kind: 'error', status: 503, code: 'SERVICE_UNAVAILABLE', message: 'S3 did not answer' });
  });

  it.each([
    ['not JSON', 'Bad Gateway'],
    ['no slot count', JSON.stringify({ holders: [], waiting: [] })],
    ['a holder without its lease', JSON.stringify({ slots: 2, holders: [{ ...HOLDER, leaseUntil: undefined }], waiting: [] })],
    ['a waiting entry without its position', JSON.stringify({ slots: 2, holders: [], waiting: [{ ...WAITING, position: '1' }] })],
    ['an API Gateway message', JSON.stringify({ message: 'Forbidden' })],
  ])('calls %s unexpected', async (_what, text) => {
    // Prepare: nothing beyond the text

    // Act
    const answer = await getQueue(answering(502, text), TARGET);

    // Assess
    expect(answer).toEqual({ kind: 'unexpected', status: 502, text });
  });
});
