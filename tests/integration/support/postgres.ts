/**
 * The real PostgreSQL of CI, started by .ci/postgres.sh, which exports CALMS_TEST_POSTGRES_URL (a login that may
 * create databases). Tests that need it run when it is set and are skipped otherwise, which fails a CI run
 * (tests/noSkippedTestsInCi.js). As root: eval "$(.ci/postgres.sh)".
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The server announced by the environment, or undefined when CALMS_TEST_POSTGRES_URL is not set. */
export function postgresUrl(): string | undefined {
  return process.env.CALMS_TEST_POSTGRES_URL?.trim() || undefined;
}

/** `describe` when the server is there, otherwise `describe.skip` with the reason in the name. */
export function describeWithPostgres(name: string, tests: () => void): void {
  const url = postgresUrl();
  if (url) describe(`${name} against PostgreSQL at ${new URL(url).host}`, tests);
  else describe.skip(`${name}: SKIPPED, CALMS_TEST_POSTGRES_URL not set (as root: eval "$(.ci/postgres.sh)")`, tests);
}

/** A database of its own on the test server, for one test or file; `drop` ends its connections and removes it. */
export async function createTestDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const server = postgresUrl();
  if (!server) throw new Error('CALMS_TEST_POSTGRES_URL is not set (as root: eval "$(.ci/postgres.sh)")');
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`not a database name prefix: ${JSON.stringify(prefix)}`);
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
