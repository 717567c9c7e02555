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

export interface ExecBlock {
  /** File-name form, e.g. `uid___A002_Xd33a12_X15be`. */
  readonly uid: string;
  readonly qa0: Qa0Status;
  /** Names of the fields (targets and calibrators) the execution block observed. */
  readonly fields: readonly string[];
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

/** The port. Implementations throw `ArchiveUnavailableError` (retry) or `ArchiveError` (give up). */
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
