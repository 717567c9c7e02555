import type { ExecBlock, MousRecord } from '../../../lib/archive/Archive';
import { ArchiveError } from '../../../lib/errors';
import { checkMousAtIntake, NO_QA0_PASS_MESSAGE } from '../../../lib/domain/intakeChecks';
import { failingArchive, FakeArchive } from '../fakes/archiveStore';
import { calibrator, target } from '../fakes';

function block(uid: string, qa0: ExecBlock['qa0'], fields: ExecBlock['fields']): ExecBlock {
  return { uid, qa0, fields };
}

function mous(overrides: Partial<MousRecord> = {}): MousRecord {
  return {
    uid: 'uid___A001_X1296_X675',
    projectCode: '2017.1.00727.S',
    state: 'Delivered',
    releaseDate: '2019-09-28',
    execBlocks: [
      block('uid___A002_Xc6c0d5_X2b4e', 'Pass', [calibrator('J0510+1800'), calibrator('J0321+1234'), calibrator('J0431+2037'), target('HL_Tau')]),
      block('uid___A002_Xc6d2f9_X5d1', 'Pass', [calibrator('J0510+1800'), calibrator('J0431+2037'), target('HL_Tau')]),
    ],
    ...overrides,
  };
}

const request = { mous: 'uid___A001_X1296_X675', projectCode: '2017.1.00727.S', calibratorFields: [] as string[] };

describe('checkMousAtIntake', () => {
  it('uses the script message word for word', () => {
    // Prepare
    const lines = NO_QA0_PASS_MESSAGE.split('\n');

    // Act
    const [first, second] = lines;

    // Assess
    expect(lines).toHaveLength(2);
    expect(first).toBe('ERROR: No QA0_PASS data found for this MOUS. Please double-check MOUS UID.');
    expect(second).toBe('If confirmed, please inform the user that ALMA cannot offer calibrated data for this MOUS.');
  });

  it('accepts a MOUS of the requested project with QA0 Pass data, returning the record', async () => {
    // Prepare
    const record = mous();
    const archive = new FakeArchive({ mous: [record] });

    // Act
    const result = await checkMousAtIntake(archive, request);

    // Assess
    expect(result).toEqual({ ok: true, mous: record });
  });

  it('answers NO_QA0_PASS for a MOUS the archive does not have', async () => {
    // Prepare
    const archive = new FakeArchive({ mous: [mous()] });

    // Act
    const result = await checkMousAtIntake(archive, { ...request, mous: 'uid___A001_X1296_X676' });

    // Assess
    expect(result).toEqual({ ok: false, code: 'NO_QA0_PASS', message: NO_QA0_PASS_MESSAGE });
  });

  it('answers NO_QA0_PASS when the execution blocks are only SemiPass, Fail and Unset', async () => {
    // Prepare
    const archive = new FakeArchive({
      mous: [
        mous({
          execBlocks: [
            block('uid___A002_Xf2c6a8_X5e3', 'SemiPass', [calibrator('J0423-0120'), target('UZ_Tau')]),
            block('uid___A002_Xf2cb91_X2a', 'Fail', [calibrator('J0423-0120'), target('UZ_Tau')]),
            block('uid___A002_Xf2d03c_X9c4', 'Unset', [calibrator('J0423-0120'), target('UZ_Tau')]),
          ],
        }),
      ],
    });

    // Act
    const result = await checkMousAtIntake(archive, request);

    // Assess
    expect(result).toEqual({ ok: false, code: 'NO_QA0_PASS', message: NO_QA0_PASS_MESSAGE });
  });

  it('answers NO_QA0_PASS for a MOUS without execution blocks', async () => {
    // Prepare
    const archive = new FakeArchive({ mous: [mous({ execBlocks: [] })] });

    // Act
    const result = await checkMousAtIntake(archive, request);

    // Assess
    expect(result.ok).toBe(false);
    expect(!result.ok && result.code).toBe('NO_QA0_PASS');
  });

  it('answers WRONG_PROJECT naming both project codes', async () => {
    // Prepare
    const archive = new FakeArchive({ mous: [mous()] });

    // Act
    const result = await checkMousAtIntake(archive, { ...request, projectCode: '2021.1.01582.S' });

    // Assess
    expect(result).toEqual({
      ok: false,
      code: 'WRONG_PROJECT',
      message:
        'MOUS uid___A001_X1296_X675 belongs to project 2017.1.00727.S, not to project 2021.1.01582.S. ' +
        'Please double-check the project code and the MOUS UID.',
    });
  });

  it('accepts calibrator fields that a QA0 Pass execution block observed', async () => {
    // Prepare
    const archive = new FakeArchive({ mous: [mous()] });

    // Act
    const result = await checkMousAtIntake(archive, { ...request, calibratorFields: ['J0510+1800', 'J0321+1234'] });

    // Assess
    expect(result.ok).toBe(true);
  });

  it('answers UNKNOWN_CALIBRATOR_FIELD naming the field and listing the observed ones', async () => {
    // Prepare
    const archive = new FakeArchive({ mous: [mous()] });

    // Act
    const result = await checkMousAtIntake(archive, { ...request, calibratorFields: ['J0510+1800', 'J9999+9999'] });

    // Assess
    expect(result).toEqual({
      ok: false,
      code: 'UNKNOWN_CALIBRATOR_FIELD',
      message:
        'Calibrator field J9999+9999 was not observed by any QA0 Pass execution block of MOUS uid___A001_X1296_X675. ' +
        'Observed fields: HL_Tau, J0321+1234, J0431+2037, J0510+1800.',
    });
  });

  it('names every unknown field once', async () => {
    // Prepare
    const archive = new FakeArchive({ mous: [mous()] });

    // Act
    const result = await checkMousAtIntake(archive, { ...request, calibratorFields: ['3C279', 'Titan', '3C279'] });

    // Assess
    expect(!result.ok && result.message).toMatch(/^Calibrator fields 3C279, Titan were not observed/);
  });

  it('matches field names exactly, letter case included', async () => {
    // Prepare
    const archive = new FakeArchive({ mous: [mous()] });

    // Act
    const result = await checkMousAtIntake(archive, { ...request, calibratorFields: ['hl_tau'] });

    // Assess
    expect(!result.ok && result.code).toBe('UNKNOWN_CALIBRATOR_FIELD');
  });

  it('does not count a field observed only by a failed execution block', async () => {
    // Prepare
    const archive = new FakeArchive({
      mous: [
        mous({
          execBlocks: [
            block('uid___A002_Xf2d5e2_X1b7', 'Pass', [calibrator('J1058+0133'), calibrator('J1037-2934'), target('TW_Hya')]),
            block('uid___A002_Xf2d9f0_X3c8', 'Fail', [calibrator('J1058+0133'), calibrator('Titan'), calibrator('J1037-2934'), target('TW_Hya')]),
          ],
        }),
      ],
    });

    // Act
    const result = await checkMousAtIntake(archive, { ...request, calibratorFields: ['Titan'] });

    // Assess
    expect(!result.ok && result.code).toBe('UNKNOWN_CALIBRATOR_FIELD');
    expect(!result.ok && result.message).toContain('Observed fields: J1037-2934, J1058+0133, TW_Hya.');
  });

  it('answers NOT_A_CALIBRATOR naming the science target a calibrator-only request asked for', async () => {
    // Prepare
    const archive = new FakeArchive({ mous: [mous()] });

    // Act
    const result = await checkMousAtIntake(archive, { ...request, calibratorFields: ['J0510+1800', 'HL_Tau'] });

    // Assess
    expect(result).toEqual({
      ok: false,
      code: 'NOT_A_CALIBRATOR',
      message: 'HL_Tau is a science target of uid___A001_X1296_X675: calibrator-only requests may name calibrators only',
    });
  });

  it('names every field that is not a calibrator, and counts the check source as a calibrator', async () => {
    // Prepare
    const archive = new FakeArchive({
      mous: [
        mous({
          execBlocks: [
            block('uid___A002_Xc6c0d5_X2b4e', 'Pass', [
              calibrator('J0510+1800', 'CALIBRATE_BANDPASS'),
              calibrator('J0431+2037', 'OBSERVE_CHECK_SOURCE', 'CALIBRATE_WVR'),
              { name: 'J0321+1234', intents: [] },
              target('HL_Tau'),
            ]),
          ],
        }),
      ],
    });

    // Act
    const result = await checkMousAtIntake(archive, { ...request, calibratorFields: ['J0431+2037', 'J0321+1234', 'HL_Tau'] });

    // Assess
    expect(!result.ok && result.message).toBe(
      'J0321+1234, HL_Tau are science targets of uid___A001_X1296_X675: calibrator-only requests may name calibrators only',
    );
  });

  it('refuses a field that is a calibrator in one execution block but the target in another, even a failed one', async () => {
    // Prepare
    const archive = new FakeArchive({
      mous: [
        mous({
          execBlocks: [
            block('uid___A002_Xc6c0d5_X2b4e', 'Pass', [calibrator('J0510+1800'), target('HL_Tau')]),
            block('uid___A002_Xc6d2f9_X5d1', 'Fail', [target('J0510+1800')]),
          ],
        }),
      ],
    });

    // Act
    const result = await checkMousAtIntake(archive, { ...request, calibratorFields: ['J0510+1800'] });

    // Assess
    expect(!result.ok && result.code).toBe('NOT_A_CALIBRATOR');
  });

  it('passes archive failures through unchanged', async () => {
    // Prepare
    const failure = new ArchiveError('archive lookup of MOUS uid___A001_X1296_X675 failed: no such table: mous');

    // Act
    const result = checkMousAtIntake(failingArchive(failure), request);

    // Assess
    await expect(result).rejects.toBe(failure);
  });
});
