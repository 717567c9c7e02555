/**
 * The per-MOUS archive check done when a request arrives, before anything is triggered: what
 * `triggerCalMSCreation.sh` checked before it mailed AOG.
 */
import { Qa0Status, type Archive, type MousRecord } from '../archive/Archive';
import { isCalibratorOf } from './calibrators';

/** The script's message when a MOUS has no QA0_PASS data, word for word. */
export const NO_QA0_PASS_MESSAGE =
  'ERROR: No QA0_PASS data found for this MOUS. Please double-check MOUS UID.\n' +
  'If confirmed, please inform the user that ALMA cannot offer calibrated data for this MOUS.';

export type IntakeCheckCode = 'NO_QA0_PASS' | 'WRONG_PROJECT' | 'UNKNOWN_CALIBRATOR_FIELD' | 'NOT_A_CALIBRATOR';

/** Why a calibrator-only request may not name a field: it is not a calibrator of the MOUS. */
export function notACalibratorMessage(targets: readonly string[], mous: string): string {
  const subject = targets.length === 1 ? `${targets[0]} is a science target` : `${targets.join(', ')} are science targets`;
  return `${subject} of ${mous}: calibrator-only requests may name calibrators only`;
}

export type IntakeCheckResult =
  | { readonly ok: true; readonly mous: MousRecord }
  | { readonly ok: false; readonly code: IntakeCheckCode; readonly message: string };

export interface IntakeCheckRequest {
  /** File-name form, e.g. `uid___A001_X1296_X675`. */
  readonly mous: string;
  readonly projectCode: string;
  /** Empty unless only these calibrator fields were requested. */
  readonly calibratorFields: readonly string[];
}

/**
 * Checks one requested MOUS against the archive, in this order:
 * 1. the MOUS is not in the archive → `NO_QA0_PASS` with {@link NO_QA0_PASS_MESSAGE};
 * 2. it belongs to another project than requested → `WRONG_PROJECT` (checked before QA0 because naming the
 *    right project is the more useful answer to a typo);
 * 3. none of its execution blocks has QA0 status Pass → `NO_QA0_PASS` (SemiPass, Fail, Unset do not count);
 * 4. a requested calibrator field was observed by no QA0 Pass execution block (names match exactly, as the
 *    procedure asks for exact names) → `UNKNOWN_CALIBRATOR_FIELD`, listing the fields that were observed;
 * 5. a requested field is not a calibrator of the MOUS ({@link isCalibratorOf}: a target, or observed without
 *    calibration intents) → `NOT_A_CALIBRATOR`: a calibrator-only request skips the user's entitlement because
 *    calibrator data are public, which a science target's are not.
 *
 * @throws ArchiveUnavailableError or ArchiveError from the port, unchanged.
 */
export async function checkMousAtIntake(archive: Archive, request: IntakeCheckRequest): Promise<IntakeCheckResult> {
  const mous = await archive.findMous(request.mous);
  if (!mous) return { ok: false, code: 'NO_QA0_PASS', message: NO_QA0_PASS_MESSAGE };

  if (mous.projectCode !== request.projectCode) {
    return {
      ok: false,
      code: 'WRONG_PROJECT',
      message:
        `MOUS ${mous.uid} belongs to project ${mous.projectCode}, not to project ${request.projectCode}. ` +
        'Please double-check the project code and the MOUS UID.',
    };
  }

  const passed = mous.execBlocks.filter((block) => block.qa0 === Qa0Status.Pass);
  if (passed.length === 0) return { ok: false, code: 'NO_QA0_PASS', message: NO_QA0_PASS_MESSAGE };

  const observed = new Set(passed.flatMap((block) => block.fields.map((field) => field.name)));
  const requested = [...new Set(request.calibratorFields.map((field) => field.trim()).filter((field) => field !== ''))];
  const unknown = requested.filter((field) => !observed.has(field));
  if (unknown.length > 0) {
    const subject = unknown.length === 1 ? `Calibrator field ${unknown[0]} was` : `Calibrator fields ${unknown.join(', ')} were`;
    return {
      ok: false,
      code: 'UNKNOWN_CALIBRATOR_FIELD',
      message:
        `${subject} not observed by any QA0 Pass execution block of MOUS ${mous.uid}. ` + `Observed fields: ${[...observed].sort().join(', ')}.`,
    };
  }

  const targets = requested.filter((field) => !isCalibratorOf(mous, field));
  if (targets.length > 0) return { ok: false, code: 'NOT_A_CALIBRATOR', message: notACalibratorMessage(targets, mous.uid) };

  return { ok: true, mous };
}
