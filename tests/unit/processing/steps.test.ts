import { outcomeReply, requestEmail } from '../../../lib/domain/messages';
import { EntitlementOutcome } from '../../../lib/domain/entitlement';
import { ArchiveUnavailableError, MailUnavailableError, StorageUnavailableError } from '../../../lib/errors';
import type { MousRequest } from '../../../lib/domain/request';
import {
  checkEntitlement,
  emailRequestToAog,
  notifyMaintainerBriefly,
  notifyMaintainerOfFailure,
  removeTrigger,
  replyToRequest,
  type StepDeps,
} from '../../../lib/processing/steps';
import type { TriggerRecord } from '../../../lib/storage/TriggerStore';
import { failingArchive, FakeArchive, fakeStepDeps, type InMemoryTriggerStore, mousRecord, seedMousRequest, TEST_ADDRESSES } from '../fakes';

const judit = { id: 'judits', name: 'Judit Szulagyi', email: 'judits@phys.ethz.ch' };

function harness(overrides: Partial<StepDeps> = {}) {
  const archive = new FakeArchive({
    users: [judit],
    projects: [{ code: '2017.1.00727.S', piUserId: judit.id }],
    mous: [mousRecord({ releaseDate: '2099-01-01' })],
  });
  const fakes = fakeStepDeps(() => new Date('2026-11-24T12:00:00Z'), archive);
  return { ...fakes, deps: { ...fakes.deps, ...overrides } };
}

function triggerOf(request: MousRequest): TriggerRecord {
  return { name: request.triggerName, mous: request.mous, requestId: request.requestId, createdAt: request.requestedAt };
}

/** A request whose trigger is active in `triggers`, as intake leaves it. */
function activeRequest(triggers: InMemoryTriggerStore, overrides: Parameters<typeof seedMousRequest>[0] = {}): MousRequest {
  const request = seedMousRequest(overrides);
  triggers.seed(triggerOf(request));
  return request;
}

const failure = { Error: 'ClusterJobFailedError', Cause: 'casa exited with status 1 on arcp14' };

describe('emailRequestToAog', () => {
  it('sends the request email and returns its Message-ID', async () => {
    // Prepare
    const { deps, mailer, ledger } = harness();
    const request = seedMousRequest();

    // Act
    const result = await emailRequestToAog(deps, request);

    // Assess
    expect(result).toEqual({ messageId: request.requestMessageId });
    expect(mailer.sent).toEqual([requestEmail(request, TEST_ADDRESSES)]);
    expect(ledger.messageIdOf(request.requestId, 'request')).toBe(request.requestMessageId);
  });

  it('sends it once when the step runs twice', async () => {
    // Prepare
    const { deps, mailer } = harness();
    const request = seedMousRequest();
    await emailRequestToAog(deps, request);

    // Act
    const again = await emailRequestToAog(deps, request);

    // Assess
    expect(mailer.sent).toHaveLength(1);
    expect(again).toEqual({ messageId: request.requestMessageId });
  });

  it('fails with the relay error and records nothing, so a retry sends it', async () => {
    // Prepare
    const { deps, mailer, ledger } = harness();
    const request = seedMousRequest();
    mailer.failures.failNext('send', new MailUnavailableError('421 try again later'));

    // Act
    const first = emailRequestToAog(deps, request);

    // Assess
    await expect(first).rejects.toBeInstanceOf(MailUnavailableError);
    expect(ledger.records.size).toBe(0);
    await emailRequestToAog(deps, request);
    expect(mailer.sent).toHaveLength(1);
  });

  it('does not send when the ledger cannot be read', async () => {
    // Prepare
    const { deps, mailer, ledger } = harness();
    ledger.failures.failNext('claim', new StorageUnavailableError('S3 did not answer'));

    // Act
    const outcome = emailRequestToAog(deps, seedMousRequest());

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(mailer.sent).toEqual([]);
  });

  it('keeps sends of different requests apart', async () => {
    // Prepare
    const { deps, mailer } = harness();
    await emailRequestToAog(deps, seedMousRequest());

    // Act
    await emailRequestToAog(deps, seedMousRequest({ helpdeskTicket: '16141' }));

    // Assess
    expect(mailer.sent.map((message) => message.messageId)).toHaveLength(2);
    expect(new Set(mailer.sent.map((message) => message.messageId)).size).toBe(2);
  });
});

describe('checkEntitlement', () => {
  it('decides with the archive on the day the step runs', async () => {
    // Prepare
    const { deps } = harness();

    // Act
    const decision = await checkEntitlement(deps, seedMousRequest({ calibratorFields: [] }));

    // Assess
    expect(decision.outcome).toBe(EntitlementOutcome.Entitled);
    expect(decision.reason).toContain('is the PI of project 2017.1.00727.S');
  });

  it('answers NOT_ENTITLED for a stranger before the release date, and ENTITLED on it', async () => {
    // Prepare
    const stranger = { id: 'stranger', name: 'Stella Stranger', email: 'stella@example.org' };
    const archive = new FakeArchive({
      users: [judit, stranger],
      projects: [{ code: '2017.1.00727.S', piUserId: judit.id }],
      mous: [mousRecord({ releaseDate: '2026-11-25' })],
    });
    const request = seedMousRequest({ calibratorFields: [], userEmail: stranger.email });

    // Act
    const before = await checkEntitlement(harness({ archive, now: () => new Date('2026-11-24T23:59:59Z') }).deps, request);
    const on = await checkEntitlement(harness({ archive, now: () => new Date('2026-11-25T00:00:00Z') }).deps, request);

    // Assess
    expect(before.outcome).toBe(EntitlementOutcome.NotEntitled);
    expect(on.outcome).toBe(EntitlementOutcome.Entitled);
  });

  it('answers INVALID_MOUS_UID for a MOUS the archive does not have', async () => {
    // Prepare
    const { deps } = harness();

    // Act
    const decision = await checkEntitlement(deps, seedMousRequest({ mous: ['uid___A001_X1296_X6ff'] }));

    // Assess
    expect(decision.outcome).toBe(EntitlementOutcome.InvalidMousUid);
  });

  it('lets an archive outage through for the state machine to retry', async () => {
    // Prepare
    const { deps } = harness({ archive: failingArchive(new ArchiveUnavailableError('database is locked')) });

    // Act
    const outcome = checkEntitlement(deps, seedMousRequest());

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(ArchiveUnavailableError);
  });
});

describe('replyToRequest', () => {
  describe.each([
    [EntitlementOutcome.NotEntitled, 'NOT_ENTITLED', 'NOT ENTITLED'],
    [EntitlementOutcome.InvalidMousUid, 'INVALID_MOUS_UID', 'INVALID MOUS UID'],
    [EntitlementOutcome.MousNotDelivered, 'MOUS_NOT_DELIVERED', 'MOUS NOT DELIVERED'],
  ] as const)('for %s', (outcome, reply, word) => {
    it(`replies ${word} to the request email, removes the trigger and leaves the staging queue`, async () => {
      // Prepare
      const { deps, mailer, triggers, slots } = harness();
      const request = activeRequest(triggers);
      slots.seedEntry(request);
      slots.seedEntry(seedMousRequest({ helpdeskTicket: '16141' }));

      // Act
      const result = await replyToRequest(deps, request, outcome);

      // Assess
      expect(result).toEqual({ replied: reply });
      const replyId = `<reply.${request.requestId}@calms.test>`;
      expect(mailer.sent).toEqual([outcomeReply(request, reply, TEST_ADDRESSES, replyId)]);
      expect(mailer.sent[0]!.text.split('\n')[0]).toBe(word);
      expect(mailer.sent[0]!.inReplyTo).toBe(request.requestMessageId);
      expect(triggers.callsOf('remove').map((call) => call.trigger)).toEqual([triggerOf(request)]);
      expect(triggers.claims.size).toBe(0);
      expect(triggers.texts.size).toBe(0);
      expect(slots.queued()).toEqual([seedMousRequest({ helpdeskTicket: '16141' }).requestId]);
    });
  });

  it('sends the reply once when the step runs twice, and removing the trigger again is harmless', async () => {
    // Prepare
    const { deps, mailer, triggers } = harness();
    const request = activeRequest(triggers);
    await replyToRequest(deps, request, EntitlementOutcome.NotEntitled);

    // Act
    const again = await replyToRequest(deps, request, EntitlementOutcome.NotEntitled);

    // Assess
    expect(again).toEqual({ replied: 'NOT_ENTITLED' });
    expect(mailer.sent).toHaveLength(1);
    expect(triggers.claims.size).toBe(0);
  });

  it('keeps the trigger and the place in the queue when the reply could not be sent, so the retry still has them', async () => {
    // Prepare
    const { deps, mailer, triggers, slots } = harness();
    const request = activeRequest(triggers);
    slots.seedEntry(request);
    mailer.failures.failNext('send', new MailUnavailableError('connection refused'));

    // Act
    const outcome = replyToRequest(deps, request, EntitlementOutcome.MousNotDelivered);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(MailUnavailableError);
    expect(triggers.callsOf('remove')).toEqual([]);
    expect(triggers.claims.get(request.mous)).toEqual(triggerOf(request));
    expect(slots.queued()).toEqual([request.requestId]);
  });

  it('does not send the reply again when only leaving the queue failed, and leaves it on the retry', async () => {
    // Prepare
    const { deps, mailer, triggers, slots } = harness();
    const request = activeRequest(triggers);
    slots.seedEntry(request);
    slots.failures.failNext('leaveQueue', new StorageUnavailableError('S3 did not answer'));
    await expect(replyToRequest(deps, request, EntitlementOutcome.NotEntitled)).rejects.toBeInstanceOf(StorageUnavailableError);

    // Act
    await replyToRequest(deps, request, EntitlementOutcome.NotEntitled);

    // Assess
    expect(mailer.sent).toHaveLength(1);
    expect(slots.queued()).toEqual([]);
    expect(triggers.claims.size).toBe(0);
  });

  it('does not send the reply again when only removing the trigger failed', async () => {
    // Prepare
    const { deps, mailer, triggers } = harness();
    const request = activeRequest(triggers);
    triggers.failures.failNext('remove', new StorageUnavailableError('S3 did not answer'));
    await expect(replyToRequest(deps, request, EntitlementOutcome.NotEntitled)).rejects.toBeInstanceOf(StorageUnavailableError);

    // Act
    await replyToRequest(deps, request, EntitlementOutcome.NotEntitled);

    // Assess
    expect(mailer.sent).toHaveLength(1);
    expect(triggers.claims.size).toBe(0);
  });

  it('does not free a MOUS that a later forced request holds', async () => {
    // Prepare
    const { deps, triggers } = harness();
    const first = activeRequest(triggers);
    const forced = activeRequest(triggers, { helpdeskTicket: '16141' });

    // Act
    await replyToRequest(deps, first, EntitlementOutcome.NotEntitled);

    // Assess
    expect(triggers.claims.get(first.mous)).toEqual(triggerOf(forced));
  });

  it.each([EntitlementOutcome.Entitled, 'SOMETHING_ELSE'])('refuses the outcome %s: sends nothing, keeps the trigger', async (outcome) => {
    // Prepare
    const { deps, mailer, triggers } = harness();
    const request = activeRequest(triggers);

    // Act
    const result = replyToRequest(deps, request, outcome);

    // Assess
    await expect(result).rejects.toThrow(`no reply is defined for outcome ${outcome}`);
    expect(mailer.sent).toEqual([]);
    expect(triggers.claims.size).toBe(1);
  });
});

describe('removeTrigger', () => {
  it('removes the request trigger record', async () => {
    // Prepare
    const { deps, triggers } = harness();
    const request = activeRequest(triggers);

    // Act
    await removeTrigger(deps, request);

    // Assess
    expect(triggers.callsOf('remove').map((call) => call.trigger)).toEqual([triggerOf(request)]);
    expect(triggers.claims.size).toBe(0);
  });
});

describe('notifyMaintainerOfFailure', () => {
  it('tells the maintainer what failed, CC AOG, threaded to the request, and keeps the trigger', async () => {
    // Prepare
    const { deps, mailer, triggers } = harness();
    const request = activeRequest(triggers);

    // Act
    const result = await notifyMaintainerOfFailure(deps, request, failure, { text: 'stagecalms output:\nFailed. Please investigate' });

    // Assess
    expect(result).toEqual(failure);
    const [message] = mailer.sent;
    expect(message).toMatchObject({
      to: ['dpetry@eso.org'],
      cc: ['aog@eso.org'],
      subject: 'FAILED: ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675, helpdesk ticket 16140',
      messageId: `<failure.${request.requestId}@calms.test>`,
      inReplyTo: request.requestMessageId,
      references: [request.requestMessageId],
    });
    expect(message!.text).toContain(`CalMS could not complete the request ${request.requestId}.`);
    expect(message!.text).toContain('\nError: ClusterJobFailedError\nCause: casa exited with status 1 on arcp14\n');
    expect(message!.text).toContain('\nstagecalms output:\nFailed. Please investigate\n');
    expect(message!.text).toContain('MOUS uid___A001_X1296_X675, project 2017.1.00727.S, helpdesk ticket 16140');
    expect(message!.text).toContain(`The trigger ${request.triggerName} was kept.`);
    expect(triggers.callsOf('remove')).toEqual([]);
    expect(triggers.claims.get(request.mous)).toEqual(triggerOf(request));
  });

  it('gives back the staging slot of the failed request, so the next one in the queue can have it', async () => {
    // Prepare
    const { deps, slots } = harness();
    const request = seedMousRequest();
    const other = seedMousRequest({ helpdeskTicket: '16141' });
    slots.seedHolder(request);
    slots.seedHolder(other);

    // Act
    await notifyMaintainerOfFailure(deps, request, failure);

    // Assess
    expect(slots.currentHolders().map((holder) => holder.requestId)).toEqual([other.requestId]);
    expect(slots.queued()).toEqual([]);
  });

  it('gives up the place in the queue of a request that failed before it had a slot', async () => {
    // Prepare
    const { deps, slots } = harness();
    const request = seedMousRequest();
    const waiting = seedMousRequest({ helpdeskTicket: '16141' });
    slots.seedEntry(request);
    slots.seedEntry(waiting);

    // Act
    await notifyMaintainerOfFailure(deps, request, failure);

    // Assess
    expect(slots.queued()).toEqual([waiting.requestId]);
    expect(slots.holderWrites).toBe(0);
  });

  it('releases once more harmlessly when the step runs twice', async () => {
    // Prepare
    const { deps, slots, mailer } = harness();
    const request = seedMousRequest();
    slots.seedHolder(request);
    await notifyMaintainerOfFailure(deps, request, failure);

    // Act
    await notifyMaintainerOfFailure(deps, request, failure);

    // Assess
    expect(slots.currentHolders()).toEqual([]);
    expect(slots.holderWrites).toBe(1);
    expect(mailer.sent).toHaveLength(1);
  });

  it("reads the message out of a Lambda error's JSON cause, for the email and the execution", async () => {
    // Prepare
    const { deps, mailer } = harness();
    const caught = {
      Error: 'ArchiveError',
      Cause: JSON.stringify({ errorType: 'ArchiveError', errorMessage: 'two users have the email x@y.org', trace: ['at a'] }),
    };

    // Act
    const result = await notifyMaintainerOfFailure(deps, seedMousRequest(), caught);

    // Assess
    expect(result).toEqual({ Error: 'ArchiveError', Cause: 'two users have the email x@y.org' });
    expect(mailer.sent[0]!.text).toContain('\nCause: two users have the email x@y.org\n');
    expect(mailer.sent[0]!.text).not.toContain('trace');
  });

  it('notifies once when the step runs twice', async () => {
    // Prepare
    const { deps, mailer } = harness();
    const request = seedMousRequest();
    await notifyMaintainerOfFailure(deps, request, failure);

    // Act
    await notifyMaintainerOfFailure(deps, request, failure);

    // Assess
    expect(mailer.sent).toHaveLength(1);
  });

  it("reports each re-drive's failure anew, once per attempt, and says how to re-drive", async () => {
    // Prepare
    const { deps, mailer } = harness();
    const request = seedMousRequest();
    await notifyMaintainerOfFailure(deps, request, failure);
    const redriven = { ...request, redrive: 1 };

    // Act
    await notifyMaintainerOfFailure(deps, redriven, failure);
    await notifyMaintainerOfFailure(deps, redriven, failure);

    // Assess
    expect(mailer.sent.map((message) => message.messageId)).toEqual([
      `<failure.${request.requestId}@calms.test>`,
      `<failure-redrive-1.${request.requestId}@calms.test>`,
    ]);
    expect(mailer.sent[1]!.text).toContain(`CalMS could not complete the request ${request.requestId} (re-drive 1).`);
    expect(mailer.sent[1]!.text).toContain(`Once the cause is fixed, resume it where it failed: calms redrive ${request.requestId}\n`);
    expect(mailer.sent[1]!.text).toContain(`To give it up instead (the trigger goes, the ARC contact is told): calms cancel ${request.requestId}\n`);
  });

  it('is recorded apart from the request email and the reply', async () => {
    // Prepare
    const { deps, mailer, ledger, triggers } = harness();
    const request = activeRequest(triggers);
    await emailRequestToAog(deps, request);
    await replyToRequest(deps, request, EntitlementOutcome.MousNotDelivered);

    // Act
    await notifyMaintainerOfFailure(deps, request, failure);

    // Assess
    expect(mailer.sent.map((message) => message.subject)).toEqual([
      'ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675',
      'Re: ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675',
      'FAILED: ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675, helpdesk ticket 16140',
    ]);
    expect(ledger.records.size).toBe(3);
    expect(new Set(mailer.sent.map((message) => message.messageId)).size).toBe(3);
  });

  it('leaves out the details section when there are none', async () => {
    // Prepare
    const { deps, mailer } = harness();

    // Act
    await notifyMaintainerOfFailure(deps, seedMousRequest(), failure);

    // Assess
    const lines = mailer.sent[0]!.text.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      expect.stringMatching(/^CalMS could not complete the request /),
      '',
      'Error: ClusterJobFailedError',
      'Cause: casa exited with status 1 on arcp14',
      '',
    ]);
    expect(lines[5]).toMatch(/^MOUS uid___A001_X1296_X675, /);
  });
});

describe('the outcome recorded for the stats sheet', () => {
  it.each([EntitlementOutcome.NotEntitled, EntitlementOutcome.InvalidMousUid, EntitlementOutcome.MousNotDelivered])(
    'a %s reply records that outcome, once however often the step runs',
    async (outcome) => {
      // Prepare
      const { deps, triggers, statistics } = harness();
      const request = activeRequest(triggers);

      // Act
      await replyToRequest(deps, request, outcome);
      await replyToRequest(deps, request, outcome);

      // Assess
      expect([...statistics.records.values()]).toEqual([
        {
          requestId: request.requestId,
          helpdeskTicket: '16140',
          mous: 'uid___A001_X1296_X675',
          projectCode: '2017.1.00727.S',
          requestedAt: request.requestedAt,
          endedAt: '2026-11-24T12:00:00.000Z',
          outcome,
          reused: false,
          bytesDelivered: 0,
          bytesReused: 0,
        },
      ]);
    },
  );

  it('a failure reported to the maintainer records FAILED; the trigger stays, so it counts as in progress too', async () => {
    // Prepare
    const { deps, triggers, statistics } = harness();
    const request = activeRequest(triggers);

    // Act
    await notifyMaintainerOfFailure(deps, request, failure);

    // Assess
    expect(statistics.records.get(request.requestId)).toMatchObject({ outcome: 'FAILED', endedAt: '2026-11-24T12:00:00.000Z', bytesDelivered: 0 });
    expect(triggers.claims.get(request.mous)?.requestId).toBe(request.requestId);
  });

  it('no outcome is recorded when the reply could not be sent: the step is retried', async () => {
    // Prepare
    const { deps, mailer, triggers, statistics } = harness();
    const request = activeRequest(triggers);
    mailer.failures.failNext('send', new MailUnavailableError('SMTP did not answer'));

    // Act
    const replying = replyToRequest(deps, request, EntitlementOutcome.NotEntitled);

    // Assess
    await expect(replying).rejects.toBeInstanceOf(MailUnavailableError);
    expect(statistics.records.size).toBe(0);
  });
});

describe('notifyMaintainerBriefly', () => {
  const reportFailure = {
    Error: 'MailRejectedError',
    Cause: JSON.stringify({ errorType: 'MailRejectedError', errorMessage: '552 message size exceeds fixed limit' }),
  };

  it('tells the maintainer in a few lines that the report failed, with the failure, and gives back the slot', async () => {
    // Prepare
    const { deps, mailer, slots } = harness();
    const request = seedMousRequest();
    slots.seedHolder(request);

    // Act
    const result = await notifyMaintainerBriefly(deps, request, failure, reportFailure);

    // Assess
    expect(result).toEqual(failure);
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]).toMatchObject({
      to: [TEST_ADDRESSES.maintainer],
      subject: 'FAILED: ALMA: REQUEST FOR CALIBRATED DATA MOUS uid___A001_X1296_X675, helpdesk ticket 16140',
      messageId: `<failure-brief.${request.requestId}@calms.test>`,
      inReplyTo: request.requestMessageId,
    });
    expect(mailer.sent[0]!.text).toContain('\nError: ClusterJobFailedError\nCause: casa exited with status 1 on arcp14\n');
    expect(mailer.sent[0]!.text).toContain('The full failure report could not be sent (MailRejectedError: 552 message size exceeds fixed limit)');
    expect(mailer.sent[0]!.text).toContain(`calms redrive ${request.requestId}`);
    expect(slots.holderOf(request.requestId)).toBeUndefined();
  });

  it('sends nothing when the full report went out and only what came after it failed', async () => {
    // Prepare
    const { deps, mailer } = harness();
    const request = seedMousRequest();
    await notifyMaintainerOfFailure(deps, request, failure);

    // Act
    await notifyMaintainerBriefly(deps, request, failure, { Error: 'StorageUnavailableError', Cause: 'S3 did not record the outcome' });

    // Assess
    expect(mailer.sent.map((mail) => mail.messageId)).toEqual([`<failure.${request.requestId}@calms.test>`]);
  });

  it('still sends when the slot cannot be given back or the outcome recorded', async () => {
    // Prepare
    const { deps, mailer, slots, statistics } = harness();
    const request = seedMousRequest();
    slots.failures.failAlways('updateHolders', new StorageUnavailableError('S3 did not answer'));
    statistics.failures.failAlways('record', new StorageUnavailableError('S3 did not answer'));

    // Act
    await notifyMaintainerBriefly(deps, request, failure, reportFailure);

    // Assess
    expect(mailer.sent).toHaveLength(1);
  });
});
