/**
 * The archive: the port the domain depends on, the SQLite adapter, and the snapshot loader of the local
 * archive. Importing this module does not load the SQLite driver; the adapter loads it on first use.
 */
export {
  MousState,
  Qa0Status,
  SCAN_INTENTS,
  type Archive,
  type ArchiveSnapshot,
  type ArchiveUser,
  type DelegationType,
  type ExecBlock,
  type MousRecord,
  type ObservedField,
  type ScanIntent,
} from './Archive';
export { SqliteArchive, type SqliteArchiveOptions } from './SqliteArchive';
export {
  SnapshotError,
  isAlmaUid,
  loadSnapshotFile,
  loadSnapshotIntoDatabase,
  parseSnapshot,
  toFileNameUid,
  type SnapshotLoadSummary,
} from './snapshot';
