/** The in-memory `Archive` (archiveStore.ts) and builders for archive records. */
import type { ExecBlock, MousRecord, ObservedField } from '../../../lib/archive/Archive';

export { failingArchive, FakeArchive, type ArchiveCall } from './archiveStore';

export function execBlock(overrides: Partial<ExecBlock> = {}): ExecBlock {
  return {
    uid: 'uid___A002_Xc6c0d5_X2b4e',
    qa0: 'Pass',
    fields: [calibrator('J0510+1800'), calibrator('J0321+1234'), calibrator('J0431+2037'), target('HL_Tau')],
    ...overrides,
  };
}

/** The seed's MOUS `uid___A001_X1296_X675` of project 2017.1.00727.S, delivered and public, unless overridden. */
export function mousRecord(overrides: Partial<MousRecord> = {}): MousRecord {
  return {
    uid: 'uid___A001_X1296_X675',
    projectCode: '2017.1.00727.S',
    state: 'Delivered',
    releaseDate: '2019-09-28',
    execBlocks: [execBlock()],
    ...overrides,
  };
}

/** A field observed as a calibrator, by default a phase calibrator. */
export function calibrator(name: string, ...intents: string[]): ObservedField {
  return { name, intents: intents.length > 0 ? intents : ['CALIBRATE_PHASE'] };
}

/** A field observed as a science target (with the atmosphere and WVR scans ALMA makes on every field). */
export function target(name: string): ObservedField {
  return { name, intents: ['CALIBRATE_ATMOSPHERE', 'CALIBRATE_WVR', 'OBSERVE_TARGET'] };
}
