import type { ExecBlock } from '../../../lib/archive/Archive';
import { isCalibrationIntent, isCalibratorOf } from '../../../lib/domain/calibrators';
import { calibrator, execBlock, mousRecord, target } from '../fakes';

function mousWith(...blocks: ExecBlock['fields'][]) {
  return mousRecord({ execBlocks: blocks.map((fields, index) => execBlock({ uid: `uid___A002_X1_X${index + 1}`, fields })) });
}

describe('isCalibrationIntent', () => {
  it.each(['CALIBRATE_BANDPASS', 'CALIBRATE_FLUX', 'CALIBRATE_PHASE', 'CALIBRATE_DIFFGAIN', 'CALIBRATE_WVR', 'OBSERVE_CHECK_SOURCE'])(
    "counts %s as a calibrator's",
    (intent) => {
      // Prepare
      const given = intent;

      // Act
      const verdict = isCalibrationIntent(given);

      // Assess
      expect(verdict).toBe(true);
    },
  );

  it.each(['OBSERVE_TARGET', 'MAP_PRIMARY_BEAM', 'UNSPECIFIED', 'CALIBRATE_SOMETHING_NEW', 'calibrate_phase', 'CALIBRATE_PHASE#ON_SOURCE', ''])(
    'does not count %j',
    (intent) => {
      // Prepare
      const given = intent;

      // Act
      const verdict = isCalibrationIntent(given);

      // Assess
      expect(verdict).toBe(false);
    },
  );
});

describe('isCalibratorOf', () => {
  it('finds a field a calibrator when every block that observed it did so with calibration intents', () => {
    // Prepare
    const mous = mousWith(
      [calibrator('J0510+1800', 'CALIBRATE_BANDPASS', 'CALIBRATE_FLUX'), target('HL_Tau')],
      [calibrator('J0510+1800', 'CALIBRATE_PHASE', 'CALIBRATE_WVR'), calibrator('J0431+2037', 'OBSERVE_CHECK_SOURCE')],
    );

    // Act
    const verdicts = ['J0510+1800', 'J0431+2037'].map((field) => isCalibratorOf(mous, field));

    // Assess
    expect(verdicts).toEqual([true, true]);
  });

  it.each([
    ['observed as the science target', [[target('HL_Tau')]]],
    ['a target that also has calibration scans', [[calibrator('HL_Tau', 'CALIBRATE_ATMOSPHERE', 'OBSERVE_TARGET')]]],
    ['a calibrator in one block and the target in another', [[calibrator('HL_Tau')], [target('HL_Tau')]]],
    ['observed without intents (a plain name in the snapshot)', [[calibrator('HL_Tau')], [{ name: 'HL_Tau', intents: [] }]]],
    ['observed with an intent CalMS does not know', [[calibrator('HL_Tau', 'CALIBRATE_PHASE', 'CALIBRATE_SOMETHING_NEW')]]],
    ['observed with a non-calibration intent only', [[calibrator('HL_Tau', 'MAP_PRIMARY_BEAM')]]],
    ['observed by no block', [[calibrator('J0510+1800')]]],
  ] as const)('finds HL_Tau a target when %s', (_label, blocks) => {
    // Prepare
    const mous = mousWith(...blocks);

    // Act
    const verdict = isCalibratorOf(mous, 'HL_Tau');

    // Assess
    expect(verdict).toBe(false);
  });

  it('counts blocks of every QA0 status: a failed block that observed the field as target makes it a target', () => {
    // Prepare
    const mous = mousRecord({
      execBlocks: [
        execBlock({ uid: 'uid___A002_X1_X1', qa0: 'Pass', fields: [calibrator('Titan', 'CALIBRATE_FLUX')] }),
        execBlock({ uid: 'uid___A002_X1_X2', qa0: 'Fail', fields: [target('Titan')] }),
      ],
    });

    // Act
    const verdict = isCalibratorOf(mous, 'Titan');

    // Assess
    expect(verdict).toBe(false);
  });
});
