/**
 * The ALMA archive as CalMS sees it: MOUS with their execution blocks, projects, users and delegations.
 * Words follow the archive's vocabulary (MOUS states, QA0 statuses) so a site can map its own database.
 */

/** MOUS life-cycle states as the archive names them; others may appear and are treated as not delivered. */
export const MousState = {
  Delivered: 'Delivered',
  DeliveryInProgress: 'DeliveryInProgress',
  QA3InProgress: 'QA3InProgress',
  Verified: 'Verified',
  ObservingTimedOut: 'ObservingTimedOut',
  FullyObserved: 'FullyObserved',
} as const;

export const Qa0Status = { Pass: 'Pass', SemiPass: 'SemiPass', Fail: 'Fail', Unset: 'Unset' } as const;
export type Qa0Status = (typeof Qa0Status)[keyof typeof Qa0Status];

/**
 * ALMA's scan intents: the ASDM `ScanIntent` enumeration, as the archive spells them (without the
 * `#ON_SOURCE`/`#OFF_SOURCE` sub-intent). Whether a field is a calibrator is decided from these
 * (lib/domain/calibrators.ts).
 */
export const SCAN_INTENTS = [
  'CALIBRATE_AMPLI',
  'CALIBRATE_ANTENNA_PHASE',
  'CALIBRATE_ANTENNA_POINTING_MODEL',
  'CALIBRATE_ANTENNA_POSITION',
  'CALIBRATE_APPPHASE_ACTIVE',
  'CALIBRATE_APPPHASE_PASSIVE',
  'CALIBRATE_ATMOSPHERE',
  'CALIBRATE_BANDPASS',
  'CALIBRATE_DELAY',
  'CALIBRATE_DIFFGAIN',
  'CALIBRATE_FLUX',
  'CALIBRATE_FOCUS',
  'CALIBRATE_FOCUS_X',
  'CALIBRATE_FOCUS_Y',
  'CALIBRATE_PHASE',
  'CALIBRATE_POINTING',
  'CALIBRATE_POLARIZATION',
  'CALIBRATE_POL_ANGLE',
  'CALIBRATE_POL_LEAKAGE',
  'CALIBRATE_SIDEBAND_RATIO',
  'CALIBRATE_WVR',
  'DO_SKYDIP',
  'MAP_ANTENNA_SURFACE',
  'MAP_PRIMARY_BEAM',
  'MEASURE_RFI',
  'OBSERVE_CHECK_SOURCE',
  'OBSERVE_TARGET',
  'SYSTEM_CONFIGURATION',
  'TEST',
  'UNSPECIFIED',
] as const;
export type ScanIntent = (typeof SCAN_INTENTS)[number];

/** A field (target or calibrator) as one execution block observed it. */
export interface ObservedField {
  readonly name: string;
  /**
   * The scan intents the execution block observed the field with, e.g. `['CALIBRATE_BANDPASS', 'CALIBRATE_FLUX']`;
   * empty when the archive records none. Strings rather than {@link ScanIntent}: an adapter passes on what its
   * database holds, and the domain reads a name it does not know as a target's, which is the safe reading.
   */
  readonly intents: readonly string[];
}

export interface ExecBlock {
  /** File-name form, e.g. `uid___A002_Xd33a12_X15be`. */
  readonly uid: string;
  readonly qa0: Qa0Status;
  /** The fields the execution block observed, in the archive's order. */
  readonly fields: readonly ObservedField[];
}

export interface MousRecord {
  /** File-name form, e.g. `uid___A001_X1296_X675`. */
  readonly uid: string;
  readonly projectCode: string;
  readonly state: string;
  /** Proprietary period end as `YYYY-MM-DD` (UTC); null while not yet set. */
  readonly releaseDate: string | null;
  readonly execBlocks: readonly ExecBlock[];
}

export interface ArchiveUser {
  readonly id: string;
  readonly name: string;
  readonly email: string;
}

export type DelegationType = 'DATA' | 'PROPOSAL' | 'ADMIN';

/**
 * The port. Implementations throw `ArchiveUnavailableError` (retry) or `ArchiveError` (give up).
 *
 * Four read-only lookups; an adapter for another database implements them with whatever SQL fits and returns
 * the records above. `findMous` returns the whole MOUS: its execution blocks in observing order, each with its
 * observed fields and their intents (a field without intents comes back with `intents: []`).
 */
export interface Archive {
  /** `uid` in file-name form. */
  findMous(uid: string): Promise<MousRecord | undefined>;
  /** Matches the email case-insensitively. */
  findUserByEmail(email: string): Promise<ArchiveUser | undefined>;
  /** The user id of the project's PI. */
  findProjectPi(projectCode: string): Promise<string | undefined>;
  hasDelegation(projectCode: string, userId: string, type: DelegationType): Promise<boolean>;
}

/** The JSON snapshot the local archive is loaded from (`CALMS_ARCHIVE_SNAPSHOT`). */
export interface ArchiveSnapshot {
  readonly users: readonly ArchiveUser[];
  readonly projects: readonly { readonly code: string; readonly piUserId: string }[];
  readonly delegations: readonly { readonly projectCode: string; readonly userId: string; readonly type: DelegationType }[];
  readonly mous: readonly MousRecord[];
}
