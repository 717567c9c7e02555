import { type AwsEndpointConfig, readSecretText, secretFields } from '../aws/clients';
import type { ArchiveSettings } from '../config';
import type { Logger } from '../log';
import { PgArchive } from './PgArchive';
import { SqliteArchive } from './SqliteArchive';

/**
 * How the archive's PostgreSQL password is read when CALMS_ARCHIVE_PASSWORD_SECRET names its secret: JSON
 * `{"password": …}`, the form of an RDS-managed secret (whose other keys are ignored). Undefined without one.
 */
export function archivePassword(archive: ArchiveSettings, aws: AwsEndpointConfig): (() => Promise<string>) | undefined {
  const secretId = archive.passwordSecret;
  if (!secretId) return undefined;
  return async () => secretFields(await readSecretText(aws, secretId), secretId, ['password'], 'the archive database password').password;
}

/**
 * The archive adapter for where CALMS_ARCHIVE_URL points: PostgreSQL for a postgres:// URL, else the SQLite
 * file. Neither touches its database before the first lookup.
 */
export function openArchive(archive: ArchiveSettings, aws: AwsEndpointConfig, logger?: Logger): SqliteArchive | PgArchive {
  const { location } = archive;
  const options = logger ? { logger } : {};
  if (location.dialect === 'sqlite') return new SqliteArchive(location.path, options);
  const password = archivePassword(archive, aws);
  return new PgArchive(location, { ...options, ...(password ? { password } : {}) });
}
