/**
 * Every SQL statement CalMS runs against the archive, in one place so a site can point CalMS at its own
 * database by rewriting this file alone.
 *
 * The contract a rewritten read query must keep: the same named parameters (`:uid`, `:email`, ...) and the
 * same output column names (the `AS` aliases), with the value types given in each query's comment.
 * {@link SqliteArchive} checks every row against that contract and raises `ArchiveError` when it does not
 * hold, so a mistake in a rewritten query fails loudly instead of granting or denying access by accident.
 *
 * The schema and insert statements below are the ones the local archive is built with from a snapshot
 * (`snapshot.ts`); a site with its own database does not need them.
 */

/**
 * The local archive schema, in ALMA archive words: MOUS states (Delivered, QA3InProgress, ...) and QA0
 * statuses (Pass, SemiPass, Fail, Unset) are stored as the archive spells them.
 */
export const SCHEMA_SQL = `
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
  release_date TEXT CHECK (release_date IS NULL OR release_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')
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

/** Inserts used to load a snapshot; positional parameters in the order of the column list. */
export const INSERT_SQL = {
  user: 'INSERT INTO users (id, name, email) VALUES (?, ?, ?)',
  project: 'INSERT INTO projects (code, pi_user_id) VALUES (?, ?)',
  delegation: 'INSERT INTO delegations (project_code, user_id, type) VALUES (?, ?, ?)',
  mous: 'INSERT INTO mous (uid, project_code, state, release_date) VALUES (?, ?, ?, ?)',
  execBlock: 'INSERT INTO exec_blocks (uid, mous_uid, position, qa0) VALUES (?, ?, ?, ?)',
  observedField: 'INSERT INTO observed_fields (exec_block_uid, position, name) VALUES (?, ?, ?)',
  fieldIntent: 'INSERT INTO field_intents (exec_block_uid, field_position, intent) VALUES (?, ?, ?)',
} as const;

/** The read queries behind the `Archive` port. */
export const QUERY_SQL = {
  /**
   * One MOUS by uid (file-name form). Parameters: `:uid`.
   * Columns: `uid` text, `projectCode` text, `state` text, `releaseDate` text `YYYY-MM-DD` or null.
   * At most one row.
   */
  findMous: `
    SELECT uid, project_code AS projectCode, state, release_date AS releaseDate
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
    SELECT f.exec_block_uid AS execBlockUid, f.position AS position, f.name AS name, i.intent AS intent
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
    SELECT pi_user_id AS piUserId
    FROM projects
    WHERE code = :projectCode`,

  /**
   * Whether a user holds a delegation of a type for a project. Parameters: `:projectCode`, `:userId`, `:type`
   * (DATA, PROPOSAL or ADMIN). Columns: `found` (any value); a row means yes.
   */
  hasDelegation: `
    SELECT 1 AS found
    FROM delegations
    WHERE project_code = :projectCode AND user_id = :userId AND type = :type
    LIMIT 1`,
} as const;

export type QueryName = keyof typeof QUERY_SQL;
