/**
 * Every SQL statement CalMS runs against the archive, in one place so a site can point CalMS at its own
 * database by rewriting this file alone. The same text serves SQLite and PostgreSQL: plain SQL both accept,
 * named parameters (`:uid`), and output names in double quotes so PostgreSQL keeps their letter case.
 * `PgArchive` turns the named parameters into PostgreSQL's `$1, $2, …` ({@link toNumberedParameters}); the one
 * place where the two dialects differ is the date check of the schema ({@link ISO_DATE_CHECK}).
 *
 * The contract a rewritten read query must keep: the same named parameters (`:uid`, `:email`, ...) and the
 * same output column names (the `AS` aliases), with the value types given in each query's comment.
 * The adapters check every row against that contract and raise `ArchiveError` when it does not hold, so a
 * mistake in a rewritten query fails loudly instead of granting or denying access by accident.
 *
 * The schema and insert statements below are the ones `npm run archive:load` builds an archive with from a
 * snapshot (`load.ts`); a site with its own database does not need them.
 */

/** The databases the archive may live in: the embedded SQLite file, or a PostgreSQL server. */
export type ArchiveDialect = 'sqlite' | 'postgres';

/** `release_date` is text `YYYY-MM-DD`: SQLite checks it with GLOB, PostgreSQL with a regular expression. */
const ISO_DATE_CHECK: Record<ArchiveDialect, string> = {
  sqlite: "release_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'",
  postgres: "release_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'",
};

/** The archive's tables, each after the tables it refers to (the order to create and fill them). */
export const ARCHIVE_TABLES = ['users', 'projects', 'delegations', 'mous', 'exec_blocks', 'observed_fields', 'field_intents'] as const;

/**
 * The archive schema, in ALMA archive words: MOUS states (Delivered, QA3InProgress, ...) and QA0 statuses
 * (Pass, SemiPass, Fail, Unset) are stored as the archive spells them.
 */
export function schemaSql(dialect: ArchiveDialect): string {
  return `
CREATE TABLE users (
  id    TEXT PRIMARY KEY,
  name  TEXT NOT NULL,
  email TEXT NOT NULL
);
-- Email addresses are compared case-insensitively, so they must also be unique that way.
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE projects (
  code       TEXT PRIMARY KEY,
  pi_user_id TEXT NOT NULL REFERENCES users (id)
);

CREATE TABLE delegations (
  project_code TEXT NOT NULL REFERENCES projects (code),
  user_id      TEXT NOT NULL REFERENCES users (id),
  type         TEXT NOT NULL CHECK (type IN ('DATA', 'PROPOSAL', 'ADMIN')),
  PRIMARY KEY (project_code, user_id, type)
);

CREATE TABLE mous (
  uid          TEXT PRIMARY KEY,
  project_code TEXT NOT NULL REFERENCES projects (code),
  state        TEXT NOT NULL,
  release_date TEXT CHECK (release_date IS NULL OR ${ISO_DATE_CHECK[dialect]})
);
CREATE INDEX mous_project ON mous (project_code);

CREATE TABLE exec_blocks (
  uid      TEXT PRIMARY KEY,
  mous_uid TEXT NOT NULL REFERENCES mous (uid),
  position INTEGER NOT NULL,
  qa0      TEXT NOT NULL CHECK (qa0 IN ('Pass', 'SemiPass', 'Fail', 'Unset'))
);
CREATE INDEX exec_blocks_mous ON exec_blocks (mous_uid);

CREATE TABLE observed_fields (
  exec_block_uid TEXT NOT NULL REFERENCES exec_blocks (uid),
  position       INTEGER NOT NULL,
  name           TEXT NOT NULL,
  PRIMARY KEY (exec_block_uid, position)
);

-- The scan intents (CALIBRATE_BANDPASS, OBSERVE_TARGET, ...) an execution block observed a field with; a field
-- without rows here has no intents, which makes it a target.
CREATE TABLE field_intents (
  exec_block_uid TEXT NOT NULL,
  field_position INTEGER NOT NULL,
  intent         TEXT NOT NULL,
  PRIMARY KEY (exec_block_uid, field_position, intent),
  FOREIGN KEY (exec_block_uid, field_position) REFERENCES observed_fields (exec_block_uid, position)
);
`;
}

/** Inserts used to load a snapshot, one per table; named parameters as the read queries. */
export const INSERT_SQL = {
  users: 'INSERT INTO users (id, name, email) VALUES (:id, :name, :email)',
  projects: 'INSERT INTO projects (code, pi_user_id) VALUES (:code, :piUserId)',
  delegations: 'INSERT INTO delegations (project_code, user_id, type) VALUES (:projectCode, :userId, :type)',
  mous: 'INSERT INTO mous (uid, project_code, state, release_date) VALUES (:uid, :projectCode, :state, :releaseDate)',
  exec_blocks: 'INSERT INTO exec_blocks (uid, mous_uid, position, qa0) VALUES (:uid, :mousUid, :position, :qa0)',
  observed_fields: 'INSERT INTO observed_fields (exec_block_uid, position, name) VALUES (:execBlockUid, :position, :name)',
  field_intents: 'INSERT INTO field_intents (exec_block_uid, field_position, intent) VALUES (:execBlockUid, :fieldPosition, :intent)',
} as const satisfies Record<(typeof ARCHIVE_TABLES)[number], string>;

/** The read queries behind the `Archive` port. */
export const QUERY_SQL = {
  /**
   * One MOUS by uid (file-name form). Parameters: `:uid`.
   * Columns: `uid` text, `projectCode` text, `state` text, `releaseDate` text `YYYY-MM-DD` or null.
   * At most one row.
   */
  findMous: `
    SELECT uid, project_code AS "projectCode", state, release_date AS "releaseDate"
    FROM mous
    WHERE uid = :uid`,

  /**
   * The execution blocks of one MOUS, in observing order. Parameters: `:uid` (the MOUS).
   * Columns: `uid` text, `qa0` text (Pass, SemiPass, Fail or Unset).
   */
  execBlocksOfMous: `
    SELECT uid, qa0
    FROM exec_blocks
    WHERE mous_uid = :uid
    ORDER BY position, uid`,

  /**
   * The fields every execution block of one MOUS observed, with their intents: one row per field and intent,
   * in the order the fields are listed. Parameters: `:uid` (the MOUS).
   * Columns: `execBlockUid` text, `position` integer (the field within its block), `name` text, `intent` text,
   * or null for a field without intents (its only row).
   */
  fieldsOfMous: `
    SELECT f.exec_block_uid AS "execBlockUid", f.position AS "position", f.name AS "name", i.intent AS "intent"
    FROM observed_fields f
    JOIN exec_blocks eb ON eb.uid = f.exec_block_uid
    LEFT JOIN field_intents i ON i.exec_block_uid = f.exec_block_uid AND i.field_position = f.position
    WHERE eb.mous_uid = :uid
    ORDER BY f.exec_block_uid, f.position, i.intent`,

  /**
   * Users whose email matches, ignoring letter case. Parameters: `:email`.
   * Columns: `id` text, `name` text, `email` text. Two rows mean the email is ambiguous (an error).
   */
  findUserByEmail: `
    SELECT id, name, email
    FROM users
    WHERE lower(email) = lower(:email)
    ORDER BY id
    LIMIT 2`,

  /** The PI of a project. Parameters: `:projectCode`. Columns: `piUserId` text. At most one row. */
  findProjectPi: `
    SELECT pi_user_id AS "piUserId"
    FROM projects
    WHERE code = :projectCode`,

  /**
   * Whether a user holds a delegation of a type for a project. Parameters: `:projectCode`, `:userId`, `:type`
   * (DATA, PROPOSAL or ADMIN). Columns: `found` (any value); a row means yes.
   */
  hasDelegation: `
    SELECT 1 AS "found"
    FROM delegations
    WHERE project_code = :projectCode AND user_id = :userId AND type = :type
    LIMIT 1`,
} as const;

export type QueryName = keyof typeof QUERY_SQL;

/** A value a query binds: text, a whole number, or null. */
export type SqlValue = string | number | null;

/**
 * PostgreSQL's spelling of a statement of this file: each `:name` becomes `$n`, numbered in order of first
 * appearance, with the values in that order.
 * @throws Error naming a parameter the statement uses but `parameters` lacks
 * @example toNumberedParameters('SELECT 1 WHERE a = :a OR b = :a', { a: 'x' }) // { text: 'SELECT 1 WHERE a = $1 OR b = $1', values: ['x'] }
 */
export function toNumberedParameters(sql: string, parameters: Readonly<Record<string, SqlValue>>): { text: string; values: SqlValue[] } {
  const names: string[] = [];
  const text = sql.replace(/(?<!:):([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) => {
    if (!Object.hasOwn(parameters, name)) throw new Error(`the statement uses :${name}, which no value was given for`);
    const index = names.indexOf(name);
    if (index >= 0) return `$${index + 1}`;
    names.push(name);
    return `$${names.length}`;
  });
  return { text, values: names.map((name) => parameters[name] ?? null) };
}
