/**
 * The archive: the port the domain depends on, its SQLite and PostgreSQL adapters, where CALMS_ARCHIVE_URL
 * says the archive is, and the snapshot loader. Importing this module does not load the SQLite driver; the
 * adapter loads it on first use.
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
export { PgArchive, type PgArchiveOptions } from './PgArchive';
export { ArchiveUrlError, parseArchiveUrl, type ArchiveLocation, type PostgresLocation, type SqliteLocation } from './location';
export {
  ArchiveNotEmptyError,
  loadSnapshot,
  loadSnapshotFile,
  loadSnapshotIntoDatabase,
  type LoadOptions,
  type SnapshotLoadSummary,
} from './load';
export { SnapshotError, isAlmaUid, parseSnapshot, readSnapshotFile, toFileNameUid } from './snapshot';
