/** The embedded archive: a SQLite file. */
export interface SqliteLocation {
  readonly dialect: 'sqlite';
  readonly path: string;
}

/** An archive on a PostgreSQL server. */
export interface PostgresLocation {
  readonly dialect: 'postgres';
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Only in a URL for the local cloud and tests; on AWS the password is read from Secrets Manager. */
  readonly password?: string;
  /** `sslmode=require` or `verify-full`: TLS, with the server's certificate and host name checked. */
  readonly tls: boolean;
  /**
   * `sslrootcert=<file>`: the CAs (PEM) the server's certificate must chain to, instead of Node's own list; on
   * Lambda `/var/runtime/ca-cert.pem` holds Amazon's, which sign RDS certificates.
   */
  readonly caFile?: string;
  /** The URL without the password, for messages and logs. */
  readonly display: string;
}

export type ArchiveLocation = SqliteLocation | PostgresLocation;

/** Not a form CALMS_ARCHIVE_URL accepts; the message says which forms are. */
export class ArchiveUrlError extends Error {
  override readonly name = 'ArchiveUrlError';
}

export const ARCHIVE_URL_FORMS =
  'postgres://user@host:port/database (or postgresql://, with ?sslmode=disable, require or verify-full and &sslrootcert=<CA file>), a SQLite file path, or sqlite:<path>';

const SSL_MODES = ['disable', 'require', 'verify-full'];
const PARAMETERS = ['sslmode', 'sslrootcert'];

/**
 * Where the archive is, from CALMS_ARCHIVE_URL: a `postgres://` or `postgresql://` URL names a PostgreSQL
 * database; a `sqlite:` URL or a plain path names the embedded SQLite file.
 * @throws ArchiveUrlError for another scheme, or a PostgreSQL URL without user, host or database, or with a
 *   parameter other than sslmode; the message never repeats a password
 * @example parseArchiveUrl('postgres://calms@db.example.org:5432/archive?sslmode=verify-full')
 * @example parseArchiveUrl('.calms/archive.sqlite') // { dialect: 'sqlite', path: '.calms/archive.sqlite' }
 */
export function parseArchiveUrl(text: string): ArchiveLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return postgresLocation(text);
  if (scheme === 'sqlite') {
    // sqlite:relative/path, sqlite:/absolute/path, or the URL form sqlite:///absolute/path.
    const path = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new ArchiveUrlError('sqlite: must be followed by the path of the archive file');
    return { dialect: 'sqlite', path };
  }
  // A one-letter "scheme" is a Windows drive; anything else with :// is a URL CalMS cannot read.
  if (scheme !== undefined && scheme.length > 1 && text.slice(scheme.length).startsWith('://')) {
    throw new ArchiveUrlError(`${scheme}:// is not a database CalMS can read its archive from: use ${ARCHIVE_URL_FORMS}`);
  }
  return { dialect: 'sqlite', path: text };
}

function postgresLocation(text: string): PostgresLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ArchiveUrlError(`is not a valid URL: use ${ARCHIVE_URL_FORMS}`);
  }
  const user = decodeURIComponent(url.username);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const port = url.port === '' ? 5432 : Number(url.port);
  const missing = [user ? '' : 'a user', host ? '' : 'a host', database ? '' : 'a database'].filter(Boolean);
  if (missing.length > 0) throw new ArchiveUrlError(`names no ${missing.join(', ')}: use ${ARCHIVE_URL_FORMS}`);
  if (database.includes('/')) throw new ArchiveUrlError(`names the database "${database}", which has a slash: use ${ARCHIVE_URL_FORMS}`);
  const unknown = [...url.searchParams.keys()].filter((key) => !PARAMETERS.includes(key));
  if (unknown.length > 0) {
    throw new ArchiveUrlError(`has the parameter ${unknown.join(', ')}; the only ones read are sslmode (${SSL_MODES.join(', ')}) and sslrootcert`);
  }
  const sslMode = url.searchParams.get('sslmode') ?? 'disable';
  if (!SSL_MODES.includes(sslMode)) throw new ArchiveUrlError(`has sslmode=${sslMode}; use one of ${SSL_MODES.join(', ')}`);
  const caFile = url.searchParams.get('sslrootcert') ?? undefined;
  // A CA file without TLS would look like protection and be none.
  if (caFile !== undefined && (sslMode === 'disable' || !caFile.startsWith('/'))) {
    throw new ArchiveUrlError(`has sslrootcert=${caFile}: it must be an absolute path, with sslmode=require or verify-full`);
  }
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  const display = `postgres://${encodeURIComponent(user)}@${url.host}/${encodeURIComponent(database)}`;
  return {
    dialect: 'postgres',
    host,
    port,
    database,
    user,
    ...(password === undefined ? {} : { password }),
    tls: sslMode !== 'disable',
    ...(caFile === undefined ? {} : { caFile }),
    display,
  };
}
