import { parseArchiveUrl } from '../../../lib/archive';
import { toNumberedParameters } from '../../../lib/archive/queries';
import { archiveConfig, ConfigurationError } from '../../../lib/config';

describe('CALMS_ARCHIVE_URL: where the archive is', () => {
  it.each([
    ['.calms/archive.sqlite', '.calms/archive.sqlite'],
    ['/mnt/archive/archive.sqlite', '/mnt/archive/archive.sqlite'],
    ['sqlite:.calms/archive.sqlite', '.calms/archive.sqlite'],
    ['sqlite:///mnt/archive/archive.sqlite', '/mnt/archive/archive.sqlite'],
  ])('%s is the SQLite file %s', (url, path) => {
    expect(parseArchiveUrl(url)).toEqual({ dialect: 'sqlite', path });
  });

  it.each(['postgres', 'postgresql'])('%s:// is PostgreSQL, with the password only where it was given, and TLS by sslmode', (scheme) => {
    // Act
    const secretless = parseArchiveUrl(`${scheme}://calms@db.example.org/archive?sslmode=verify-full`);
    const local = parseArchiveUrl(`${scheme}://calms:p%40ss@127.0.0.1:15432/calms`);

    // Assess
    expect(secretless).toEqual({
      dialect: 'postgres',
      host: 'db.example.org',
      port: 5432,
      database: 'archive',
      user: 'calms',
      tls: true,
      display: 'postgres://calms@db.example.org/archive',
    });
    expect(local).toMatchObject({ host: '127.0.0.1', port: 15432, database: 'calms', password: 'p@ss', tls: false });
    expect(local.dialect === 'postgres' && local.display).toBe('postgres://calms@127.0.0.1:15432/calms');
  });

  it.each([
    ['mysql://calms@db.example.org/archive', /mysql:\/\/ is not a database CalMS can read its archive from/],
    ['postgres://db.example.org/archive', /names no a user/],
    ['postgres://calms@db.example.org/', /names no a database/],
    ['postgres://calms:hunter2@db.example.org/archive?sslmode=prefer', /sslmode=prefer; use one of disable, require, verify-full/],
    [
      'postgres://calms:hunter2@db.example.org/archive?options=-c',
      /the only ones read are sslmode \(disable, require, verify-full\) and sslrootcert/,
    ],
    ['sqlite:', /sqlite: must be followed by the path/],
    ['postgres://calms:hunter2@db.example.org/archive?sslrootcert=/var/runtime/ca-cert.pem', /sslrootcert=.* with sslmode=require or verify-full/],
    ['postgres://calms:hunter2@db.example.org/archive?sslmode=verify-full&sslrootcert=ca.pem', /sslrootcert=ca\.pem: it must be an absolute path/],
  ])('refuses %s, saying why and never repeating the password', (url, expected) => {
    // Act
    const read = () => archiveConfig({ CALMS_ARCHIVE_URL: url });

    // Assess
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(expected);
    expect(read).toThrow(/^CALMS_ARCHIVE_URL /);
    expect(read).not.toThrow(/hunter2/);
  });

  it('takes sslrootcert as the file of the CAs a TLS connection checks the server against', () => {
    expect(parseArchiveUrl('postgres://calms@db.example.org/archive?sslmode=verify-full&sslrootcert=/var/runtime/ca-cert.pem')).toMatchObject({
      tls: true,
      caFile: '/var/runtime/ca-cert.pem',
    });
  });

  it('takes the password secret only for PostgreSQL, and only when the URL holds no password', () => {
    // Act
    const fromSecret = archiveConfig({
      CALMS_ARCHIVE_URL: 'postgres://calms@db/archive',
      CALMS_ARCHIVE_PASSWORD_SECRET: 'calms/prod/archive-password',
    });
    const both = () =>
      archiveConfig({ CALMS_ARCHIVE_URL: 'postgres://calms:pw@db/archive', CALMS_ARCHIVE_PASSWORD_SECRET: 'calms/prod/archive-password' });
    const sqlite = () => archiveConfig({ CALMS_ARCHIVE_URL: 'archive.sqlite', CALMS_ARCHIVE_PASSWORD_SECRET: 'calms/prod/archive-password' });

    // Assess
    expect(fromSecret.passwordSecret).toBe('calms/prod/archive-password');
    expect(both).toThrow(/keep the password in the secret only/);
    expect(sqlite).toThrow(/names a SQLite file, which has no password/);
  });
});

describe('the queries in PostgreSQL spelling', () => {
  it('numbers the named parameters in order of first use, repeats included, and leaves :: casts alone', () => {
    expect(toNumberedParameters('SELECT :b::text WHERE a = :a OR b = :b', { a: 'x', b: 'y' })).toEqual({
      text: 'SELECT $1::text WHERE a = $2 OR b = $1',
      values: ['y', 'x'],
    });
  });

  it('refuses a statement that uses a parameter no value was given for', () => {
    expect(() => toNumberedParameters('SELECT 1 WHERE uid = :uid', {})).toThrow('the statement uses :uid, which no value was given for');
  });
});
