import type { APIGatewayProxyEvent } from 'aws-lambda';
import { MAX_REQUEST_BODY_BYTES } from '../../../lib/handlers/http';
import { makeSubmitRequestHandler } from '../../../lib/handlers/submitRequest';
import { NO_QA0_PASS_MESSAGE } from '../../../lib/domain/intakeChecks';
import { requestText } from '../../../lib/domain/messages';
import { ArchiveError, ArchiveUnavailableError, StorageUnavailableError, WorkflowUnavailableError } from '../../../lib/errors';
import { CYCLE0_MESSAGE, type ExecutionInput, type IntakeDeps, submitRequest } from '../../../lib/intake/submitRequest';
import type { Archive } from '../../../lib/archive/Archive';
import { queueEntryOf } from '../../../lib/slots/StagingQueue';
import {
  calibrator,
  execBlock,
  failingArchive,
  FakeArchive,
  fakeStagingQueue,
  InMemorySlotStore,
  InMemoryTriggerStore,
  mousRecord,
  RecordingLogger,
  RecordingWorkflow,
  SEED_TIME,
  seedRequestBody,
  target,
  TEST_MAIL_DOMAIN,
} from '../fakes';

const addresses = { aog: 'aog@eso.org', maintainer: 'dpetry@eso.org' };

/**
 * The seed's MOUS, a second MOUS of its project, one without QA0 Pass data, one of another project, and one of the
 * seed's project whose science target is the quasar the seed's MOUS calibrates with.
 */
const archiveRecords = [
  mousRecord(),
  mousRecord({
    uid: 'uid___A001_X1296_X676',
    execBlocks: [execBlock({ uid: 'uid___A002_Xc6c0d5_X3000', fields: [calibrator('J0510+1800'), target('HL_Tau')] })],
  }),
  mousRecord({
    uid: 'uid___A001_X1296_X677',
    execBlocks: [execBlock({ qa0: 'SemiPass' }), execBlock({ uid: 'uid___A002_Xc6c0d5_X3001', qa0: 'Fail' })],
  }),
  mousRecord({ uid: 'uid___A001_X159a_X6b', projectCode: '2021.1.01582.S' }),
  mousRecord({
    uid: 'uid___A001_X1296_X679',
    execBlocks: [execBlock({ uid: 'uid___A002_Xc6c0d5_X3002', fields: [calibrator('J0423-0120'), target('J0510+1800')] })],
  }),
];

interface Harness {
  readonly deps: IntakeDeps;
  readonly archive: FakeArchive;
  readonly triggers: InMemoryTriggerStore;
  readonly workflow: RecordingWorkflow;
  readonly slots: InMemorySlotStore;
  readonly log: RecordingLogger;
}

function harness(archive: Archive = new FakeArchive({ mous: archiveRecords })): Harness {
  const triggers = new InMemoryTriggerStore();
  const workflow = new RecordingWorkflow();
  const log = new RecordingLogger();
  const { queue, store: slots } = fakeStagingQueue({ store: new InMemorySlotStore(SEED_TIME), log });
  let suffix = 0;
  const deps: IntakeDeps = {
    archive,
    triggers,
    workflow,
    queue,
    addresses,
    mailDomain: TEST_MAIL_DOMAIN,
    now: () => SEED_TIME,
    randomSuffix: () => `s${(suffix++).toString().padStart(3, '0')}`,
    log,
  };
  return { deps, archive: archive as FakeArchive, triggers, workflow, slots, log };
}

/** The results list of a ticket response. */
function resultsOf(body: unknown): Record<string, unknown>[] {
  return (body as { results: Record<string, unknown>[] }).results;
}

const SEED_TRIGGER = 'trigger-uid___A001_X1296_X675-2019-09-02T14-00-27.txt';

describe('submitRequest', () => {
  describe('an accepted MOUS', () => {
    it('answers 202 listing the MOUS with its request id, execution ARN and trigger name', async () => {
      // Prepare
      const { deps, workflow } = harness();

      // Act
      const response = await submitRequest(deps, seedRequestBody());

      // Assess
      expect(response.status).toBe(202);
      expect(response.body).toEqual({
        helpdeskTicket: '16140',
        results: [
          {
            mous: 'uid___A001_X1296_X675',
            outcome: 'accepted',
            requestId: 't16140-uid___A001_X1296_X675-20190902T140027Z-s000',
            executionArn: workflow.started[0]!.executionArn,
            triggerName: SEED_TRIGGER,
          },
        ],
      });
    });

    it('records the trigger with the seed text before the execution starts', async () => {
      // Prepare
      const { deps, triggers, workflow } = harness();

      // Act
      await submitRequest(deps, seedRequestBody({ calibratorFields: ['J0510+1800', 'J0321+1234'] }));

      // Assess
      const request = (workflow.started[0]!.input as ExecutionInput).request;
      expect(triggers.texts.get(SEED_TRIGGER)).toBe(requestText(request, addresses));
      expect(triggers.texts.get(SEED_TRIGGER)).toContain('\ncalfield J0510+1800,J0321+1234\n');
      expect(triggers.claims.get('uid___A001_X1296_X675')).toEqual({
        name: SEED_TRIGGER,
        mous: 'uid___A001_X1296_X675',
        requestId: request.requestId,
        createdAt: '2019-09-02T14:00:27.000Z',
      });
      expect(triggers.callsOf('claim')[0]!.force).toBe(false);
    });

    it('starts one execution named by the request id, carrying the request', async () => {
      // Prepare
      const { deps, workflow } = harness();

      // Act
      await submitRequest(deps, seedRequestBody());

      // Assess
      expect(workflow.started).toHaveLength(1);
      expect(workflow.started[0]!.name).toBe('t16140-uid___A001_X1296_X675-20190902T140027Z-s000');
      expect(workflow.started[0]!.input).toEqual({
        request: {
          requestId: 't16140-uid___A001_X1296_X675-20190902T140027Z-s000',
          projectCode: '2017.1.00727.S',
          userName: 'Judit Szulagyi',
          userEmail: 'judits@phys.ethz.ch',
          helpdeskTicket: '16140',
          arcContact: 'evkampe@eso.org',
          mous: 'uid___A001_X1296_X675',
          calibratorFields: [],
          requestedAt: '2019-09-02T14:00:27.000Z',
          triggerName: SEED_TRIGGER,
          requestMessageId: `<t16140-uid___A001_X1296_X675-20190902T140027Z-s000@${TEST_MAIL_DOMAIN}>`,
        },
      });
    });

    it('triggers every MOUS of a ticket, each with its own request id, in the order given', async () => {
      // Prepare
      const { deps, workflow, triggers } = harness();

      // Act
      const response = await submitRequest(deps, seedRequestBody({ mous: ['uid___A001_X1296_X676', 'uid://A001/X1296/X675'] }));

      // Assess
      const results = resultsOf(response.body);
      expect(response.status).toBe(202);
      expect(results.map((result) => [result.mous, result.outcome])).toEqual([
        ['uid___A001_X1296_X676', 'accepted'],
        ['uid___A001_X1296_X675', 'accepted'],
      ]);
      expect(new Set(workflow.started.map((execution) => execution.name)).size).toBe(2);
      expect([...triggers.claims.keys()].sort()).toEqual(['uid___A001_X1296_X675', 'uid___A001_X1296_X676']);
    });

    it('takes a place in the staging queue for each accepted MOUS, at its arrival, before its execution starts', async () => {
      // Prepare
      const { deps, workflow, slots } = harness();
      const queuedAtStart: string[][] = [];
      const start = workflow.start.bind(workflow);
      workflow.start = async (name, input) => {
        queuedAtStart.push(slots.queued());
        return start(name, input);
      };

      // Act
      await submitRequest(deps, seedRequestBody({ mous: ['uid___A001_X1296_X676', 'uid://A001/X1296/X675'] }));

      // Assess
      const requests = workflow.started.map((execution) => (execution.input as ExecutionInput).request);
      expect([...slots.entries.values()]).toEqual(
        expect.arrayContaining(requests.map((request) => ({ ...queueEntryOf(request), touchedAt: SEED_TIME }))),
      );
      expect(slots.entries.size).toBe(2);
      expect(requests.map((request) => request.requestedAt)).toEqual([SEED_TIME.toISOString(), SEED_TIME.toISOString()]);
      expect(queuedAtStart.map((queued, index) => queued.includes(requests[index]!.requestId))).toEqual([true, true]);
    });
  });

  describe('a malformed request', () => {
    it.each([
      ['the body', null, 'body'],
      ['projectCode', seedRequestBody({ projectCode: '2017.1.727.S' }), 'projectCode'],
      ['userName', seedRequestBody({ userName: 'Judit\nSzulagyi' }), 'userName'],
      ['userEmail', seedRequestBody({ userEmail: 'judits' }), 'userEmail'],
      ['helpdeskTicket', seedRequestBody({ helpdeskTicket: '16140; rm -rf /' }), 'helpdeskTicket'],
      ['arcContact', seedRequestBody({ arcContact: undefined }), 'arcContact'],
      ['mous', seedRequestBody({ mous: [] }), 'mous'],
      ['a MOUS entry', seedRequestBody({ mous: ['uid://A001/X1296/X675', 'uid://A001/X1296'] }), 'mous[1]'],
      ['calibratorFields', seedRequestBody({ calibratorFields: ['x"; touch /tmp/pwned; "'] }), 'calibratorFields[0]'],
      ['force', seedRequestBody({ force: 'yes' }), 'force'],
    ])('answers 400 VALIDATION_ERROR for %s and touches nothing', async (_, body, field) => {
      // Prepare
      const { deps, archive, triggers, workflow, slots } = harness();

      // Act
      const response = await submitRequest(deps, body);

      // Assess
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: { code: 'VALIDATION_ERROR', field, message: expect.stringContaining(field) } });
      expect(archive.calls).toEqual([]);
      expect(triggers.calls).toEqual([]);
      expect(workflow.started).toEqual([]);
      expect(slots.calls).toEqual([]);
    });
  });

  describe('a Cycle 0 project', () => {
    it('answers 422 CYCLE0 telling staff the data is in the archive, and touches nothing', async () => {
      // Prepare
      const { deps, archive, triggers, workflow } = harness();

      // Act
      const response = await submitRequest(deps, seedRequestBody({ projectCode: '2011.0.00367.S' }));

      // Assess
      expect(response).toEqual({ status: 422, body: { error: { code: 'CYCLE0', field: 'projectCode', message: CYCLE0_MESSAGE } } });
      expect(CYCLE0_MESSAGE).toMatch(/already available from the ALMA archive/);
      expect(archive.calls).toEqual([]);
      expect(triggers.calls).toEqual([]);
      expect(workflow.started).toEqual([]);
    });
  });

  describe('the archive check per MOUS', () => {
    it('rejects a calibrator-only request for the MOUS whose science target it names, and triggers only the other (202)', async () => {
      // Prepare
      const { deps, triggers, workflow, slots } = harness();
      const body = seedRequestBody({ mous: ['uid://A001/X1296/X675', 'uid://A001/X1296/X679'], calibratorFields: ['J0510+1800'] });

      // Act
      const response = await submitRequest(deps, body);

      // Assess
      expect(response.status).toBe(202);
      expect(resultsOf(response.body)[1]).toEqual({
        mous: 'uid___A001_X1296_X679',
        outcome: 'rejected',
        error: {
          code: 'NOT_A_CALIBRATOR',
          message: 'J0510+1800 is a science target of uid___A001_X1296_X679: calibrator-only requests may name calibrators only',
        },
      });
      expect([...triggers.claims.keys()]).toEqual(['uid___A001_X1296_X675']);
      expect(workflow.started.map((started) => started.name)).toEqual([expect.stringContaining('uid___A001_X1296_X675')]);
      expect(slots.queued()).toEqual([workflow.started[0]!.name]);
    });

    it('rejects an unknown MOUS with the script message and still triggers the others (202)', async () => {
      // Prepare
      const { deps, triggers, workflow, slots } = harness();

      // Act
      const response = await submitRequest(deps, seedRequestBody({ mous: ['uid://A001/X1296/X675', 'uid://A001/X1296/X6ff'] }));

      // Assess
      expect(response.status).toBe(202);
      expect(resultsOf(response.body)[1]).toEqual({
        mous: 'uid___A001_X1296_X6ff',
        outcome: 'rejected',
        error: { code: 'NO_QA0_PASS', message: NO_QA0_PASS_MESSAGE },
      });
      expect([...triggers.claims.keys()]).toEqual(['uid___A001_X1296_X675']);
      expect(workflow.started).toHaveLength(1);
      expect(slots.queued()).toEqual([workflow.started[0]!.name]);
    });

    it.each([
      ['NO_QA0_PASS', seedRequestBody({ mous: ['uid___A001_X1296_X677'] })],
      ['WRONG_PROJECT', seedRequestBody({ mous: ['uid://A001/X159a/X6b'] })],
      ['UNKNOWN_CALIBRATOR_FIELD', seedRequestBody({ calibratorFields: ['J9999+0000'] })],
      ['NOT_A_CALIBRATOR', seedRequestBody({ calibratorFields: ['J0510+1800', 'HL_Tau'] })],
    ])('answers 422 when the only MOUS is rejected with %s, and nothing is triggered', async (code, body) => {
      // Prepare
      const { deps, triggers, workflow, slots } = harness();

      // Act
      const response = await submitRequest(deps, body);

      // Assess
      expect(response.status).toBe(422);
      expect(resultsOf(response.body)).toEqual([{ mous: expect.any(String), outcome: 'rejected', error: { code, message: expect.any(String) } }]);
      expect(triggers.calls).toEqual([]);
      expect(workflow.started).toEqual([]);
      expect(slots.calls).toEqual([]);
    });

    it('answers 503 SERVICE_UNAVAILABLE when the archive does not answer, and triggers nothing', async () => {
      // Prepare
      const { deps, triggers, workflow } = harness(failingArchive(new ArchiveUnavailableError('database is locked')));

      // Act
      const response = await submitRequest(deps, seedRequestBody());

      // Assess
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('database is locked') } });
      expect(triggers.calls).toEqual([]);
      expect(workflow.started).toEqual([]);
    });

    it('lets a permanent archive error through, having triggered nothing', async () => {
      // Prepare
      const { deps, triggers, workflow } = harness(failingArchive(new ArchiveError('no such table: mous')));

      // Act
      const outcome = submitRequest(deps, seedRequestBody());

      // Assess
      await expect(outcome).rejects.toBeInstanceOf(ArchiveError);
      expect(triggers.calls).toEqual([]);
      expect(workflow.started).toEqual([]);
    });
  });

  describe('duplicates', () => {
    const active = {
      name: 'trigger-uid___A001_X1296_X675-2019-08-30T09-12-00.txt',
      mous: 'uid___A001_X1296_X675',
      requestId: 't16001-uid___A001_X1296_X675-20190830T091200Z-aaaa',
      createdAt: '2019-08-30T09:12:00.000Z',
    };

    it('answers 409 DUPLICATE_TRIGGER naming the active trigger and when it was made, and starts nothing', async () => {
      // Prepare
      const { deps, triggers, workflow, slots } = harness();
      triggers.seed(active);

      // Act
      const response = await submitRequest(deps, seedRequestBody());

      // Assess
      const [result] = resultsOf(response.body) as [{ error: { code: string; message: string; existingTrigger: unknown } }];
      expect(response.status).toBe(409);
      expect(result.error.code).toBe('DUPLICATE_TRIGGER');
      expect(result.error.message).toContain(active.name);
      expect(result.error.message).toContain(active.createdAt);
      expect(result.error.message).toContain('force');
      expect(result.error.existingTrigger).toEqual({ name: active.name, createdAt: active.createdAt, requestId: active.requestId });
      expect(workflow.started).toEqual([]);
      expect(triggers.claims.get(active.mous)).toEqual(active);
      expect(triggers.texts.has(SEED_TRIGGER)).toBe(false);
      expect(slots.calls).toEqual([]);
    });

    it('refuses the second of two identical requests', async () => {
      // Prepare
      const { deps, workflow } = harness();
      await submitRequest(deps, seedRequestBody());

      // Act
      const second = await submitRequest(deps, seedRequestBody());

      // Assess
      expect(second.status).toBe(409);
      expect(workflow.started).toHaveLength(1);
    });

    it('lets only one of two identical requests racing each other trigger', async () => {
      // Prepare
      const { deps, workflow } = harness();

      // Act
      const responses = await Promise.all([submitRequest(deps, seedRequestBody()), submitRequest(deps, seedRequestBody())]);

      // Assess
      expect(responses.map((response) => response.status).sort()).toEqual([202, 409]);
      expect(workflow.started).toHaveLength(1);
    });

    it('triggers a second time with force, and the new request then holds the MOUS', async () => {
      // Prepare
      const { deps, triggers, workflow } = harness();
      triggers.seed(active);

      // Act
      const response = await submitRequest(deps, seedRequestBody({ force: true }));

      // Assess
      expect(response.status).toBe(202);
      expect(triggers.callsOf('claim')[0]!.force).toBe(true);
      expect(workflow.started).toHaveLength(1);
      expect(triggers.claims.get(active.mous)!.requestId).toBe(workflow.started[0]!.name);
      expect(triggers.texts.has(SEED_TRIGGER)).toBe(true);
    });

    it('answers 202 when one MOUS is a duplicate and another is accepted', async () => {
      // Prepare
      const { deps, triggers, slots } = harness();
      triggers.seed(active);

      // Act
      const response = await submitRequest(deps, seedRequestBody({ mous: ['uid://A001/X1296/X675', 'uid://A001/X1296/X676'] }));

      // Assess
      expect(response.status).toBe(202);
      expect(resultsOf(response.body).map((result) => result.outcome)).toEqual(['rejected', 'accepted']);
      expect(slots.queued()).toEqual([resultsOf(response.body)[1]!.requestId]);
    });

    it('answers 422 when every MOUS is rejected, but for different reasons', async () => {
      // Prepare
      const { deps, triggers } = harness();
      triggers.seed(active);

      // Act
      const response = await submitRequest(deps, seedRequestBody({ mous: ['uid://A001/X1296/X675', 'uid://A001/X1296/X677'] }));

      // Assess
      expect(response.status).toBe(422);
      expect(resultsOf(response.body).map((result) => (result.error as { code: string }).code)).toEqual(['DUPLICATE_TRIGGER', 'NO_QA0_PASS']);
    });
  });

  describe('outages while triggering', () => {
    it('answers 503 when the trigger cannot be recorded, and starts nothing', async () => {
      // Prepare
      const { deps, triggers, workflow } = harness();
      triggers.failures.failAlways('claim', new StorageUnavailableError('S3 did not answer'));

      // Act
      const response = await submitRequest(deps, seedRequestBody());

      // Assess
      expect(response.status).toBe(503);
      expect(resultsOf(response.body)).toEqual([
        {
          mous: 'uid___A001_X1296_X675',
          outcome: 'rejected',
          error: { code: 'SERVICE_UNAVAILABLE', message: 'Nothing was triggered: S3 did not answer' },
        },
      ]);
      expect(workflow.started).toEqual([]);
    });

    it('withdraws the trigger and the place in the queue when the execution cannot be started, so the MOUS is free again', async () => {
      // Prepare
      const { deps, triggers, workflow, slots } = harness();
      workflow.failures.failNext('start', new WorkflowUnavailableError('Step Functions did not start it'));

      // Act
      const response = await submitRequest(deps, seedRequestBody());

      // Assess
      expect(response.status).toBe(503);
      expect(resultsOf(response.body)[0]!.error).toEqual({
        code: 'SERVICE_UNAVAILABLE',
        message: 'Nothing was triggered: Step Functions did not start it',
      });
      expect(triggers.callsOf('remove').map((call) => call.trigger!.name)).toEqual([SEED_TRIGGER]);
      expect(triggers.claims.size).toBe(0);
      expect(triggers.texts.size).toBe(0);
      expect(slots.callsOf('joinQueue')).toHaveLength(1);
      expect(slots.callsOf('leaveQueue').map((call) => call.requestId)).toEqual([slots.callsOf('joinQueue')[0]!.requestId]);
      expect(slots.queued()).toEqual([]);
      const retry = await submitRequest(deps, seedRequestBody());
      expect(retry.status).toBe(202);
    });

    it('withdraws only the MOUS whose execution failed to start', async () => {
      // Prepare
      const { deps, triggers, workflow, slots } = harness();
      workflow.failures.failNext('start', new WorkflowUnavailableError('throttled'));

      // Act
      const response = await submitRequest(deps, seedRequestBody({ mous: ['uid://A001/X1296/X675', 'uid://A001/X1296/X676'] }));

      // Assess
      expect(response.status).toBe(202);
      expect(resultsOf(response.body).map((result) => result.outcome)).toEqual(['rejected', 'accepted']);
      expect([...triggers.claims.keys()]).toEqual(['uid___A001_X1296_X676']);
      expect(slots.queued()).toEqual([workflow.started[0]!.name]);
    });

    it('answers 503 and starts nothing when the place in the queue cannot be taken, withdrawing the trigger', async () => {
      // Prepare
      const { deps, triggers, workflow, slots } = harness();
      slots.failures.failNext('joinQueue', new StorageUnavailableError('S3 did not write the queue entry'));

      // Act
      const response = await submitRequest(deps, seedRequestBody());

      // Assess
      expect(response.status).toBe(503);
      expect(resultsOf(response.body)[0]!.error).toEqual({
        code: 'SERVICE_UNAVAILABLE',
        message: 'Nothing was triggered: S3 did not write the queue entry',
      });
      expect(workflow.started).toEqual([]);
      expect(triggers.claims.size).toBe(0);
      expect(slots.queued()).toEqual([]);
    });

    it('still reports every MOUS when withdrawing the trigger fails too', async () => {
      // Prepare
      const { deps, triggers, workflow } = harness();
      const start = workflow.start.bind(workflow);
      let starts = 0;
      workflow.start = async (name, input) => {
        starts += 1;
        if (starts === 2) throw new WorkflowUnavailableError('Step Functions did not answer');
        return start(name, input);
      };
      triggers.failures.failAlways('remove', new StorageUnavailableError('S3 did not answer'));

      // Act
      const response = await submitRequest(deps, seedRequestBody({ mous: ['uid://A001/X1296/X675', 'uid://A001/X1296/X676'] }));

      // Assess
      expect(response.status).toBe(202);
      expect(resultsOf(response.body).map((result) => [result.outcome, (result.error as { code?: string } | undefined)?.code])).toEqual([
        ['accepted', undefined],
        ['rejected', 'SERVICE_UNAVAILABLE'],
      ]);
      expect((resultsOf(response.body)[1]!.error as { message: string }).message).toBe(
        'Nothing was started: Step Functions did not answer. Its trigger trigger-uid___A001_X1296_X676-2019-09-02T14-00-27.txt ' +
          'could not be withdrawn (S3 did not answer); send the request again with force.',
      );
    });
  });
});

describe('POST /requests handler', () => {
  const event = (body: string, isBase64Encoded = false) => ({ body, isBase64Encoded }) as unknown as APIGatewayProxyEvent;

  it(`refuses a body over ${MAX_REQUEST_BODY_BYTES} bytes with 413 naming the body, before parsing it, and writes nothing`, async () => {
    // Prepare: valid JSON, made large by padding, so only its size can be the reason.
    const { deps, triggers, workflow } = harness();
    const json = JSON.stringify(seedRequestBody());
    const handler = makeSubmitRequestHandler(deps);

    // Act
    const tooLarge = await handler(event(json + ' '.repeat(MAX_REQUEST_BODY_BYTES + 1 - json.length)));
    const tooLargeBase64 = await handler(event(Buffer.from(json + ' '.repeat(MAX_REQUEST_BODY_BYTES + 1 - json.length)).toString('base64'), true));
    const atTheLimit = await handler(event(json + ' '.repeat(MAX_REQUEST_BODY_BYTES - json.length)));

    // Assess
    expect([tooLarge.statusCode, tooLargeBase64.statusCode, atTheLimit.statusCode]).toEqual([413, 413, 202]);
    expect(JSON.parse(tooLarge.body)).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', field: 'body', message: 'the request body must be at most 64 KiB, got 65537 bytes' },
    });
    expect(workflow.started).toHaveLength(1);
    expect(triggers.claims.size).toBe(1);
  });

  it('answers 400 naming the body when it is not JSON', async () => {
    // Prepare
    const { deps, workflow } = harness();

    // Act
    const response = await makeSubmitRequestHandler(deps)(event('{"projectCode": '));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'VALIDATION_ERROR', field: 'body', message: 'the request body must be JSON' } });
    expect(workflow.started).toEqual([]);
  });
});
