import type { Archive, ArchiveUser, MousRecord } from '../../../lib/archive/Archive';
import { ArchiveUnavailableError } from '../../../lib/errors';
import {
  decideEntitlement,
  EntitlementOutcome,
  gatherEntitlementFacts,
  utcDate,
  type EntitlementFacts,
  type EntitlementRequest,
} from '../../../lib/domain/entitlement';
import { failingArchive, FakeArchive } from '../fakes/archiveStore';
import { calibrator, target } from '../fakes';

const TODAY = new Date('2026-11-24T12:00:00Z');

const pi: ArchiveUser = { id: 'paulaprincipal', name: 'Paula Principal', email: 'Paula.Principal@Example.org' };
const delegate: ArchiveUser = { id: 'dariodelegate', name: 'Dario Delegate', email: 'dario.delegate@example.org' };
const proposer: ArchiveUser = { id: 'petraproposal', name: 'Petra Proposal', email: 'petra.proposal@example.org' };
const stranger: ArchiveUser = { id: 'stellastranger', name: 'Stella Stranger', email: 'stella.stranger@example.org' };

function mous(overrides: Partial<MousRecord> = {}): MousRecord {
  return {
    uid: 'uid___A001_X2f1e_X101',
    projectCode: '2022.1.00999.S',
    state: 'Delivered',
    releaseDate: '2099-01-01',
    execBlocks: [{ uid: 'uid___A002_Xf2a1b3_X4c2', qa0: 'Pass', fields: [calibrator('J0423-0120'), calibrator('J0438+3004'), target('DG_Tau')] }],
    ...overrides,
  };
}

function facts(overrides: Partial<EntitlementFacts> = {}): EntitlementFacts {
  return { mous: mous(), user: stranger, piUserId: pi.id, hasDataDelegation: false, calibratorFields: [], ...overrides };
}

function archiveWith(records: readonly MousRecord[]): FakeArchive {
  return new FakeArchive({
    users: [pi, delegate, proposer, stranger],
    projects: [{ code: '2022.1.00999.S', piUserId: pi.id }],
    delegations: [
      { projectCode: '2022.1.00999.S', userId: delegate.id, type: 'DATA' },
      { projectCode: '2022.1.00999.S', userId: proposer.id, type: 'PROPOSAL' },
    ],
    mous: records,
  });
}

function request(overrides: Partial<EntitlementRequest> = {}): EntitlementRequest {
  return {
    mous: 'uid___A001_X2f1e_X101',
    projectCode: '2022.1.00999.S',
    userEmail: stranger.email,
    calibratorFields: [],
    ...overrides,
  };
}

describe('decideEntitlement', () => {
  describe('rule 1: the request must match the archive', () => {
    it('answers INVALID_MOUS_UID when no MOUS row matches, naming the uid', () => {
      // Prepare
      const input = facts({ mous: undefined, requested: { mous: 'uid___A001_X2f1e_X1ff', projectCode: '2022.1.00999.S', userEmail: pi.email } });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.InvalidMousUid);
      expect(decision.reason).toBe('MOUS uid___A001_X2f1e_X1ff is not in the archive');
    });

    it('answers INVALID_MOUS_UID when no archive user has the email, naming the email', () => {
      // Prepare
      const input = facts({
        user: undefined,
        requested: { mous: 'uid___A001_X2f1e_X101', projectCode: '2022.1.00999.S', userEmail: 'nobody@example.org' },
      });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision).toEqual({ outcome: 'INVALID_MOUS_UID', reason: 'no archive user has the email nobody@example.org' });
    });

    it('answers INVALID_MOUS_UID for an unknown MOUS even when only calibrators were requested', () => {
      // Prepare
      const input = facts({ mous: undefined, user: undefined, calibratorFields: ['J0423-0120'] });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.InvalidMousUid);
    });

    it('answers INVALID_MOUS_UID when the MOUS belongs to another project than requested', () => {
      // Prepare
      const input = facts({ user: pi, requested: { mous: 'uid___A001_X2f1e_X101', projectCode: '2017.1.00727.S', userEmail: pi.email } });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.InvalidMousUid);
      expect(decision.reason).toContain('belongs to project 2022.1.00999.S, not to the requested project 2017.1.00727.S');
    });
  });

  describe('rule 2: calibrator-only requests', () => {
    it('entitles a stranger to calibrators of a proprietary MOUS without a user', () => {
      // Prepare
      const input = facts({
        user: undefined,
        piUserId: undefined,
        calibratorFields: ['J0423-0120', 'J0438+3004'],
        mous: mous({ releaseDate: '2099-01-01' }),
      });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.Entitled);
      expect(decision.reason).toBe('only calibrator fields were requested, and calibrator data are public');
    });

    it('still requires the MOUS to be delivered', () => {
      // Prepare
      const input = facts({ user: undefined, calibratorFields: ['J0423-0120'], mous: mous({ state: 'QA3InProgress' }) });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.MousNotDelivered);
    });

    it('checks a stranger as for the whole MOUS when a requested field is the science target, and refuses proprietary data', () => {
      // Prepare
      const input = facts({ user: stranger, calibratorFields: ['J0423-0120', 'DG_Tau'], mous: mous({ releaseDate: '2099-01-01' }) });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision).toEqual({
        outcome: 'NOT_ENTITLED',
        reason:
          'DG_Tau is not a calibrator of MOUS uid___A001_X2f1e_X101, so the request is decided as for the whole MOUS: ' +
          'user Stella Stranger (stellastranger) is not the PI of project 2022.1.00999.S and has no DATA delegation for it, ' +
          'and the release date 2099-01-01 is after today 2026-11-24',
      });
    });

    it('needs an archive user when a requested field is no calibrator, as for the whole MOUS', () => {
      // Prepare
      const input = facts({ user: undefined, calibratorFields: ['DG_Tau'] });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.InvalidMousUid);
      expect(decision.reason).toMatch(
        /^DG_Tau is not a calibrator of MOUS uid___A001_X2f1e_X101, so the request is decided as for the whole MOUS: no archive user/,
      );
    });

    it('entitles the PI to a field that is not a calibrator, as to the whole MOUS', () => {
      // Prepare
      const input = facts({ user: pi, calibratorFields: ['DG_Tau'] });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.Entitled);
      expect(decision.reason).toContain('is the PI of project 2022.1.00999.S');
    });

    it('checks the user when a field observed as calibrator at intake is a target in the archive of today', () => {
      // Prepare
      const turned = mous({
        execBlocks: [
          { uid: 'uid___A002_Xf2a1b3_X4c2', qa0: 'Pass', fields: [calibrator('J0423-0120'), target('DG_Tau')] },
          { uid: 'uid___A002_Xf2a1b3_X4c3', qa0: 'Pass', fields: [target('J0423-0120')] },
        ],
      });
      const input = facts({ user: stranger, calibratorFields: ['J0423-0120'], mous: turned });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.NotEntitled);
    });
  });

  describe('rule 3: PI, DATA delegation or public data', () => {
    it('entitles the PI of the project to proprietary data', () => {
      // Prepare
      const input = facts({ user: pi });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision).toEqual({ outcome: 'ENTITLED', reason: 'user Paula Principal (paulaprincipal) is the PI of project 2022.1.00999.S' });
    });

    it('entitles a holder of a DATA delegation', () => {
      // Prepare
      const input = facts({ user: delegate, hasDataDelegation: true });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.Entitled);
      expect(decision.reason).toBe('user Dario Delegate (dariodelegate) holds a DATA delegation for project 2022.1.00999.S');
    });

    it('refuses a stranger while the release date is in the future, naming both dates', () => {
      // Prepare
      const input = facts({ user: stranger });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.NotEntitled);
      expect(decision.reason).toBe(
        'user Stella Stranger (stellastranger) is not the PI of project 2022.1.00999.S and has no DATA delegation for it, ' +
          'and the release date 2099-01-01 is after today 2026-11-24',
      );
    });

    it('refuses a stranger when the MOUS has no release date yet', () => {
      // Prepare
      const input = facts({ user: stranger, mous: mous({ releaseDate: null }) });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.NotEntitled);
      expect(decision.reason).toContain('MOUS uid___A001_X2f1e_X101 has no release date yet');
    });

    it('entitles the PI even when the MOUS has no release date yet', () => {
      // Prepare
      const input = facts({ user: pi, mous: mous({ releaseDate: null }) });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.Entitled);
    });

    it.each([
      ['yesterday', '2026-11-23', EntitlementOutcome.Entitled],
      ['today', '2026-11-24', EntitlementOutcome.Entitled],
      ['tomorrow', '2026-11-25', EntitlementOutcome.NotEntitled],
      ['long ago', '2015-03-01', EntitlementOutcome.Entitled],
    ])('treats a release date of %s (%s) as %s for a stranger', (_label, releaseDate, expected) => {
      // Prepare
      const input = facts({ user: stranger, mous: mous({ releaseDate }) });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(expected);
    });

    it.each([
      ['one millisecond before UTC midnight', '2026-11-23T23:59:59.999Z', EntitlementOutcome.NotEntitled],
      ['exactly UTC midnight', '2026-11-24T00:00:00.000Z', EntitlementOutcome.Entitled],
      ['just after UTC midnight', '2026-11-24T00:00:00.001Z', EntitlementOutcome.Entitled],
      ['after midnight in UTC+2 but before it in UTC', '2026-11-24T00:30:00+02:00', EntitlementOutcome.NotEntitled],
      ['before midnight in UTC-5 but after it in UTC', '2026-11-23T21:00:00-05:00', EntitlementOutcome.Entitled],
    ])('with a release date of 2026-11-24 and now %s (%s) answers %s', (_label, now, expected) => {
      // Prepare
      const input = facts({ user: stranger, mous: mous({ releaseDate: '2026-11-24' }) });

      // Act
      const decision = decideEntitlement(input, new Date(now));

      // Assess
      expect(decision.outcome).toBe(expected);
    });

    it('entitles anyone to public data and says why', () => {
      // Prepare
      const input = facts({ user: stranger, mous: mous({ releaseDate: '2017-05-20' }) });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.reason).toBe('the data of MOUS uid___A001_X2f1e_X101 is public since its release date 2017-05-20');
    });

    it('does not take a PI id that belongs to nobody as a match for a user', () => {
      // Prepare
      const input = facts({ user: stranger, piUserId: undefined });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.NotEntitled);
    });
  });

  describe('rule 4: the MOUS must be delivered', () => {
    it.each(['QA3InProgress', 'DeliveryInProgress', 'Verified', 'FullyObserved', 'SomethingNew'])(
      'answers MOUS_NOT_DELIVERED for an entitled user when the state is %s',
      (state) => {
        // Prepare
        const input = facts({ user: pi, mous: mous({ state }) });

        // Act
        const decision = decideEntitlement(input, TODAY);

        // Assess
        expect(decision.outcome).toBe(EntitlementOutcome.MousNotDelivered);
        expect(decision.reason).toBe(
          `user Paula Principal (paulaprincipal) is the PI of project 2022.1.00999.S, but MOUS uid___A001_X2f1e_X101 is in state ${state}, not Delivered`,
        );
      },
    );

    it('answers NOT_ENTITLED, not MOUS_NOT_DELIVERED, for a stranger on an undelivered proprietary MOUS', () => {
      // Prepare
      const input = facts({ user: stranger, mous: mous({ state: 'QA3InProgress' }) });

      // Act
      const decision = decideEntitlement(input, TODAY);

      // Assess
      expect(decision.outcome).toBe(EntitlementOutcome.NotEntitled);
    });
  });

  it('refuses a date that is not a date', () => {
    // Prepare
    const invalid = new Date('not a date');

    // Act
    const act = () => decideEntitlement(facts({ user: pi }), invalid);

    // Assess
    expect(act).toThrow(RangeError);
  });
});

describe('utcDate', () => {
  it('gives the UTC calendar date, not the local one', () => {
    // Prepare
    const lateEveningInNewYork = new Date('2026-11-23T22:00:00-05:00');

    // Act
    const date = utcDate(lateEveningInNewYork);

    // Assess
    expect(date).toBe('2026-11-24');
  });
});

/** The facts gathered from `archive`, decided on `today`: the step `checkEntitlement` without its log. */
async function decideFromArchive(archive: Archive, entitlementRequest: EntitlementRequest, today: Date) {
  return decideEntitlement(await gatherEntitlementFacts(archive, entitlementRequest), today);
}

describe('gatherEntitlementFacts, then decideEntitlement', () => {
  it('entitles the PI whose email is given in another letter case than the archive holds', async () => {
    // Prepare
    const archive = archiveWith([mous()]);

    // Act
    const decision = await decideFromArchive(archive, request({ userEmail: 'PAULA.PRINCIPAL@example.ORG' }), TODAY);

    // Assess
    expect(decision.outcome).toBe(EntitlementOutcome.Entitled);
    expect(decision.reason).toContain('is the PI of project 2022.1.00999.S');
  });

  it('entitles a DATA delegate, asking for a DATA delegation of the MOUS project', async () => {
    // Prepare
    const archive = archiveWith([mous()]);

    // Act
    const decision = await decideFromArchive(archive, request({ userEmail: delegate.email }), TODAY);

    // Assess
    expect(decision.outcome).toBe(EntitlementOutcome.Entitled);
    expect(archive.calls).toContainEqual({ method: 'hasDelegation', args: ['2022.1.00999.S', 'dariodelegate', 'DATA'] });
  });

  it('does not entitle a user who holds only a PROPOSAL delegation', async () => {
    // Prepare
    const archive = archiveWith([mous()]);

    // Act
    const decision = await decideFromArchive(archive, request({ userEmail: proposer.email }), TODAY);

    // Assess
    expect(decision.outcome).toBe(EntitlementOutcome.NotEntitled);
  });

  it('entitles anyone in the archive to public data', async () => {
    // Prepare
    const archive = archiveWith([mous({ releaseDate: '2017-05-20' })]);

    // Act
    const decision = await decideFromArchive(archive, request({ userEmail: stranger.email }), TODAY);

    // Assess
    expect(decision.outcome).toBe(EntitlementOutcome.Entitled);
  });

  it('answers INVALID_MOUS_UID for an unknown user, without asking for PI or delegations', async () => {
    // Prepare
    const archive = archiveWith([mous({ releaseDate: '2017-05-20' })]);

    // Act
    const decision = await decideFromArchive(archive, request({ userEmail: 'nobody@example.org' }), TODAY);

    // Assess
    expect(decision).toEqual({ outcome: 'INVALID_MOUS_UID', reason: 'no archive user has the email nobody@example.org' });
    expect(archive.methodsCalled().sort()).toEqual(['findMous', 'findUserByEmail']);
  });

  it('answers INVALID_MOUS_UID for an unknown MOUS', async () => {
    // Prepare
    const archive = archiveWith([mous()]);

    // Act
    const decision = await decideFromArchive(archive, request({ mous: 'uid___A001_X2f1e_X1ff', userEmail: pi.email }), TODAY);

    // Assess
    expect(decision).toEqual({ outcome: 'INVALID_MOUS_UID', reason: 'MOUS uid___A001_X2f1e_X1ff is not in the archive' });
  });

  it('skips every user lookup when only calibrator fields are requested, and entitles on a proprietary MOUS', async () => {
    // Prepare
    const archive = archiveWith([mous({ releaseDate: '2099-01-01' })]);

    // Act
    const decision = await decideFromArchive(archive, request({ userEmail: 'franco@gmail.com', calibratorFields: ['J0423-0120'] }), TODAY);

    // Assess
    expect(decision.outcome).toBe(EntitlementOutcome.Entitled);
    expect(archive.methodsCalled()).toEqual(['findMous']);
  });

  it('looks the user up when a requested field is not a calibrator, and refuses a stranger the proprietary target', async () => {
    // Prepare
    const archive = archiveWith([mous({ releaseDate: '2099-01-01' })]);

    // Act
    const decision = await decideFromArchive(archive, request({ userEmail: 'nobody@example.org', calibratorFields: ['DG_Tau'] }), TODAY);

    // Assess
    expect(decision.outcome).toBe(EntitlementOutcome.InvalidMousUid);
    expect(archive.methodsCalled()).toEqual(['findMous', 'findUserByEmail']);
  });

  it('treats a list of blank calibrator fields as a full-data request', async () => {
    // Prepare
    const archive = archiveWith([mous()]);

    // Act
    const decision = await decideFromArchive(archive, request({ userEmail: stranger.email, calibratorFields: [' '] }), TODAY);

    // Assess
    expect(decision.outcome).toBe(EntitlementOutcome.NotEntitled);
  });

  it('answers MOUS_NOT_DELIVERED to the PI of a MOUS in QA3InProgress', async () => {
    // Prepare
    const archive = archiveWith([mous({ state: 'QA3InProgress' })]);

    // Act
    const decision = await decideFromArchive(archive, request({ userEmail: pi.email }), TODAY);

    // Assess
    expect(decision.outcome).toBe(EntitlementOutcome.MousNotDelivered);
  });

  it('passes archive failures through unchanged for the state machine to retry', async () => {
    // Prepare
    const failure = new ArchiveUnavailableError('archive lookup of MOUS uid___A001_X2f1e_X101 failed: database is locked');

    // Act
    const result = decideFromArchive(failingArchive(failure), request(), TODAY);

    // Assess
    await expect(result).rejects.toBe(failure);
  });
});
