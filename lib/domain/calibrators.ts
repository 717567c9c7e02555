/**
 * Which fields of a MOUS are calibrators. A calibrator-only request skips the user's entitlement because
 * calibrator data are public; a science target is not, so this decides what such a request may release.
 */
import { SCAN_INTENTS, type MousRecord } from '../archive/Archive';

const CALIBRATION_INTENT_PREFIX = 'CALIBRATE_';
const CHECK_SOURCE_INTENT = 'OBSERVE_CHECK_SOURCE';
const KNOWN_INTENTS: readonly string[] = SCAN_INTENTS;

/** A known ALMA intent that observes a field as a calibrator: `CALIBRATE_*` or the check source. */
export function isCalibrationIntent(intent: string): boolean {
  if (!KNOWN_INTENTS.includes(intent)) return false;
  return intent.startsWith(CALIBRATION_INTENT_PREFIX) || intent === CHECK_SOURCE_INTENT;
}

/**
 * A field is a calibrator of a MOUS when every execution block of the MOUS that observed it (whatever its QA0
 * status) observed it with calibration intents only. `OBSERVE_TARGET`, any other intent, a name that is not an
 * ALMA intent, or no intents at all in any one block make it a target; so does a field no block observed.
 *
 * @example isCalibratorOf(mous, 'J0510+1800') // true when each block has e.g. ['CALIBRATE_BANDPASS', 'CALIBRATE_FLUX']
 */
export function isCalibratorOf(mous: MousRecord, fieldName: string): boolean {
  const observations = mous.execBlocks.flatMap((block) => block.fields.filter((field) => field.name === fieldName));
  return observations.length > 0 && observations.every((field) => field.intents.length > 0 && field.intents.every(isCalibrationIntent));
}
