/**
 * AOG's "Verification of entitlement and availability": on the day AOG handles a request, may this user
 * have this MOUS's calibrated data, and is the MOUS delivered?
 *
 * The rules live in {@link decideEntitlement}, a pure function of the archive facts and the date;
 * {@link gatherEntitlementFacts} gathers those facts through the `Archive` port.
 */
import { MousState, type Archive, type ArchiveUser, type MousRecord } from '../archive/Archive';
import { isCalibratorOf } from './calibrators';

/** The four answers AOG can give; the last three are written above the quoted request email. */
export const EntitlementOutcome = {
  Entitled: 'ENTITLED',
  NotEntitled: 'NOT_ENTITLED',
  InvalidMousUid: 'INVALID_MOUS_UID',
  MousNotDelivered: 'MOUS_NOT_DELIVERED',
} as const;
export type EntitlementOutcome = (typeof EntitlementOutcome)[keyof typeof EntitlementOutcome];

export interface EntitlementDecision {
  readonly outcome: EntitlementOutcome;
  /** One sentence an operator can read, e.g. "user Judit Szulagyi (judits) is the PI of project 2017.1.00727.S". */
  readonly reason: string;
}

/** What the archive says about a request, gathered before the rules run. */
export interface EntitlementFacts {
  /** The MOUS; undefined when no archive row matches the requested uid. */
  readonly mous?: MousRecord;
  /** The archive user with the request's email; undefined when none (or not looked up: calibrators only). */
  readonly user?: ArchiveUser;
  /** The user id of the PI of the MOUS's project. */
  readonly piUserId?: string;
  /** Whether `user` holds a DATA delegation for the MOUS's project (PROPOSAL and ADMIN do not count). */
  readonly hasDataDelegation: boolean;
  /**
   * The fields the request named, empty for the whole MOUS. When every one is a calibrator of the MOUS today
   * (calibrator data are public), the user is not checked; otherwise the request is decided as for the whole MOUS.
   */
  readonly calibratorFields: readonly string[];
  /**
   * What the request named. When given, a MOUS of another project than the requested one matches no row
   * (as AOG's query by project and MOUS would), and reasons can name what was not found.
   */
  readonly requested?: { readonly mous: string; readonly projectCode: string; readonly userEmail: string };
}

export interface EntitlementRequest {
  /** File-name form, e.g. `uid___A001_X1296_X675`. */
  readonly mous: string;
  readonly projectCode: string;
  readonly userEmail: string;
  /** Non-empty when only these calibrator fields were requested. */
  readonly calibratorFields: readonly string[];
}

/** `YYYY-MM-DD` of `at` in UTC: release dates are UTC dates. */
export function utcDate(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new RangeError('entitlement needs a valid date for "today"');
  return at.toISOString().slice(0, 10);
}

function describeUser(user: ArchiveUser): string {
  return `user ${user.name} (${user.id})`;
}

/**
 * The entitlement rules, in the order AOG applies them:
 * 1. the MOUS matches no archive row (unknown uid, or a MOUS of another project than requested), or, unless
 *    only calibrators were requested, no archive user has the request's email → `INVALID_MOUS_UID`;
 * 2. fields requested and every one a calibrator of the MOUS ({@link isCalibratorOf}, from the archive of
 *    today, not of the day the request arrived) → entitled, the user is not checked (calibrator data are
 *    public); if any is not (a target, or no longer a calibrator), the rules below apply as for the whole MOUS;
 * 3. otherwise entitled if the user is the project's PI, holds a DATA delegation for it, or the data is
 *    public (release date on or before `today`, compared as UTC dates; no release date means proprietary),
 *    else `NOT_ENTITLED`;
 * 4. entitled, but the MOUS is not in state Delivered (QA3InProgress, DeliveryInProgress, Verified, ...)
 *    → `MOUS_NOT_DELIVERED`;
 * 5. otherwise `ENTITLED`.
 *
 * @example decideEntitlement({ mous, user, piUserId: user.id, hasDataDelegation: false, calibratorFields: [] }, new Date())
 */
export function decideEntitlement(facts: EntitlementFacts, today: Date): EntitlementDecision {
  const todayDate = utcDate(today);
  const { mous, user, requested } = facts;

  if (!mous) {
    const uid = requested ? `MOUS ${requested.mous}` : 'the requested MOUS';
    return { outcome: EntitlementOutcome.InvalidMousUid, reason: `${uid} is not in the archive` };
  }
  if (requested && requested.projectCode !== mous.projectCode) {
    return {
      outcome: EntitlementOutcome.InvalidMousUid,
      reason: `MOUS ${mous.uid} belongs to project ${mous.projectCode}, not to the requested project ${requested.projectCode}`,
    };
  }
  const targets = facts.calibratorFields.filter((field) => !isCalibratorOf(mous, field));
  const calibratorsOnly = namesCalibratorsOnly(mous, facts.calibratorFields);
  // Said first in every reason of a request that named targets, so AOG sees why its user was checked.
  const checkedAsWhole =
    targets.length === 0
      ? ''
      : `${targets.join(', ')} ${targets.length === 1 ? 'is not a calibrator' : 'are not calibrators'} of MOUS ${mous.uid}, so the request is decided as for the whole MOUS: `;
  if (!calibratorsOnly && !user) {
    const email = requested ? `the email ${requested.userEmail}` : 'the requested email';
    return { outcome: EntitlementOutcome.InvalidMousUid, reason: `${checkedAsWhole}no archive user has ${email}` };
  }

  const grant = calibratorsOnly ? 'only calibrator fields were requested, and calibrator data are public' : whyEntitled(facts, mous, todayDate);
  if (typeof grant !== 'string') return { ...grant, reason: `${checkedAsWhole}${grant.reason}` };

  if (mous.state !== MousState.Delivered) {
    return {
      outcome: EntitlementOutcome.MousNotDelivered,
      reason: `${checkedAsWhole}${grant}, but MOUS ${mous.uid} is in state ${mous.state}, not ${MousState.Delivered}`,
    };
  }
  return { outcome: EntitlementOutcome.Entitled, reason: `${checkedAsWhole}${grant}` };
}

/** Rule 2's test: fields were requested, and each is a calibrator of the MOUS. */
function namesCalibratorsOnly(mous: MousRecord, calibratorFields: readonly string[]): boolean {
  return calibratorFields.length > 0 && calibratorFields.every((field) => isCalibratorOf(mous, field));
}

/** Rule 3: the reason the user may have the data, or the NOT_ENTITLED decision. */
function whyEntitled(facts: EntitlementFacts, mous: MousRecord, today: string): string | EntitlementDecision {
  const project = mous.projectCode;
  const who = facts.user ? describeUser(facts.user) : 'the user';
  if (facts.user && facts.piUserId !== undefined && facts.user.id === facts.piUserId) {
    return `${who} is the PI of project ${project}`;
  }
  if (facts.user && facts.hasDataDelegation) return `${who} holds a DATA delegation for project ${project}`;
  if (mous.releaseDate !== null && mous.releaseDate <= today) {
    return `the data of MOUS ${mous.uid} is public since its release date ${mous.releaseDate}`;
  }
  const proprietary =
    mous.releaseDate === null ? `MOUS ${mous.uid} has no release date yet` : `the release date ${mous.releaseDate} is after today ${today}`;
  return {
    outcome: EntitlementOutcome.NotEntitled,
    reason: `${who} is not the PI of project ${project} and has no DATA delegation for it, and ${proprietary}`,
  };
}

/**
 * Gathers the facts for one request through the archive port, for {@link decideEntitlement}. The user, PI and
 * delegation lookups are skipped when the request names calibrators of the MOUS only, and the PI and delegation
 * lookups when the MOUS or the user is unknown.
 *
 * @throws ArchiveUnavailableError or ArchiveError from the port, unchanged: the state machine decides.
 */
export async function gatherEntitlementFacts(archive: Archive, request: EntitlementRequest): Promise<EntitlementFacts> {
  const calibratorFields = [...new Set(request.calibratorFields.map((field) => field.trim()).filter((field) => field !== ''))];
  const mous = await archive.findMous(request.mous);
  const user = mous && namesCalibratorsOnly(mous, calibratorFields) ? undefined : await archive.findUserByEmail(request.userEmail);

  let piUserId: string | undefined;
  let hasDataDelegation = false;
  if (mous && user && mous.projectCode === request.projectCode) {
    [piUserId, hasDataDelegation] = await Promise.all([
      archive.findProjectPi(mous.projectCode),
      archive.hasDelegation(mous.projectCode, user.id, 'DATA'),
    ]);
  }

  return {
    mous,
    user,
    piUserId,
    hasDataDelegation,
    calibratorFields,
    requested: { mous: request.mous, projectCode: request.projectCode, userEmail: request.userEmail },
  };
}
