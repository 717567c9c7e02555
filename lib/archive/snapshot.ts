import { readFileSync } from 'node:fs';
import {
  Qa0Status,
  SCAN_INTENTS,
  type ArchiveSnapshot,
  type ArchiveUser,
  type DelegationType,
  type ExecBlock,
  type MousRecord,
  type ObservedField,
} from './Archive';
import { normaliseMousUid, PROJECT_CODE } from '../domain/identifiers';
import { isJsonObject } from '../json';

/**
 * The JSON snapshot an archive is built from (`load.ts`), parsed with path-exact error messages.
 */

/** A snapshot that is not valid JSON, has the wrong shape, or refers to users/projects it does not define. */
export class SnapshotError extends Error {
  override name = 'SnapshotError';

  constructor(
    /** One entry per problem, each starting with the JSON path, e.g. `mous[3].execBlocks[0].qa0 must be ...`. */
    readonly problems: readonly string[],
    source = 'archive snapshot',
  ) {
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN);
    const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
    super(`${source} is invalid: ${shown.join('; ')}${more}`);
  }
}

const MAX_PROBLEMS_SHOWN = 20;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DELEGATION_TYPES: readonly DelegationType[] = ['DATA', 'PROPOSAL', 'ADMIN'];
const QA0_VALUES: readonly string[] = Object.values(Qa0Status);

/**
 * The file-name form of an ALMA uid: `uid://A001/X1296/X675` becomes `uid___A001_X1296_X675`.
 * Anything else (already file-name form, or not a uid at all) comes back trimmed and otherwise unchanged,
 * so a lookup with it simply finds nothing.
 * @example toFileNameUid('uid://A002/Xd33a12/X15be') // 'uid___A002_Xd33a12_X15be'
 */
export function toFileNameUid(uid: string): string {
  const trimmed = uid.trim();
  return normaliseMousUid(trimmed) ?? trimmed;
}

/** Whether `uid` is an ALMA uid in either form (`uid://A001/X1/X2` or `uid___A001_X1_X2`). */
export function isAlmaUid(uid: string): boolean {
  return normaliseMousUid(uid) !== undefined;
}

function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

type JsonObject = Record<string, unknown>;

/** Collects every problem with its path, so one run reports them all. */
class Checker {
  readonly problems: string[] = [];

  fail(path: string, problem: string): undefined {
    this.problems.push(`${path} ${problem}`);
    return undefined;
  }

  object(value: unknown, path: string): JsonObject | undefined {
    if (isJsonObject(value)) return value;
    return this.fail(path, value === undefined ? 'is missing' : 'must be an object');
  }

  array(parent: JsonObject, key: string, path: string): readonly unknown[] {
    const value = parent[key];
    if (Array.isArray(value)) return value;
    this.fail(path, value === undefined ? 'is missing' : 'must be an array');
    return [];
  }

  text(parent: JsonObject, key: string, path: string): string | undefined {
    const value = parent[key];
    if (value === undefined) return this.fail(path, 'is missing');
    if (typeof value !== 'string' || value.trim() === '') return this.fail(path, 'must be a non-empty string');
    return value.trim();
  }

  matching(parent: JsonObject, key: string, path: string, pattern: RegExp, expected: string): string | undefined {
    const value = this.text(parent, key, path);
    if (value === undefined || pattern.test(value)) return value;
    return this.fail(path, `must be ${expected}, got "${value}"`);
  }

  oneOf<T extends string>(parent: JsonObject, key: string, path: string, allowed: readonly T[]): T | undefined {
    const value = this.text(parent, key, path);
    if (value === undefined || (allowed as readonly string[]).includes(value)) return value as T | undefined;
    return this.fail(path, `must be one of ${allowed.join(', ')}`);
  }
}

const INTENT_NAMES: readonly string[] = SCAN_INTENTS;

/**
 * One entry of an execution block's `fields`: `{ "name", "intents": [...] }`, or a plain name (the format before
 * intents), which has no intents and is therefore a target. Intents come back sorted and without repeats, as
 * the archive adapter returns them.
 */
function observedField(check: Checker, item: unknown, path: string): ObservedField | undefined {
  if (typeof item === 'string') {
    if (item.trim() !== '') return { name: item.trim(), intents: [] };
    return check.fail(path, 'must be a non-empty string or an object with name and intents');
  }
  const field = check.object(item, path);
  if (!field) return undefined;
  const name = check.text(field, 'name', `${path}.name`);
  const intents = new Set<string>();
  check.array(field, 'intents', `${path}.intents`).forEach((intent, intentIndex) => {
    const intentPath = `${path}.intents[${intentIndex}]`;
    if (typeof intent === 'string' && INTENT_NAMES.includes(intent)) intents.add(intent);
    else {
      check.fail(intentPath, `must be an ALMA scan intent (${SCAN_INTENTS.join(', ')}), got ${JSON.stringify(intent)}`);
    }
  });
  return name === undefined ? undefined : { name, intents: [...intents].sort() };
}

/**
 * Checks the shape and the references of a snapshot and returns it with every uid in file-name form.
 *
 * Unknown keys are ignored (a MOUS may carry a `comment` for testers). Missing keys, wrong types, unknown
 * QA0 statuses, scan intents or delegation types, a field listed twice in one execution block, malformed uids, project codes and dates, duplicates, and references to
 * users or projects the snapshot does not define are all reported, each with its JSON path.
 *
 * @throws SnapshotError listing every problem, e.g. `mous[3].execBlocks[0].qa0 must be one of Pass, SemiPass, Fail, Unset`
 */
export function parseSnapshot(json: unknown): ArchiveSnapshot {
  const check = new Checker();
  const root = check.object(json, 'snapshot');
  if (!root) throw new SnapshotError(check.problems);

  const users: ArchiveUser[] = [];
  const userIds = new Map<string, string>();
  const emails = new Map<string, string>();
  check.array(root, 'users', 'users').forEach((item, index) => {
    const path = `users[${index}]`;
    const user = check.object(item, path);
    if (!user) return;
    const id = check.text(user, 'id', `${path}.id`);
    const name = check.text(user, 'name', `${path}.name`);
    const email = check.matching(user, 'email', `${path}.email`, EMAIL, 'an email address');
    if (id !== undefined) {
      const first = userIds.get(id);
      if (first) check.fail(`${path}.id`, `"${id}" repeats ${first}`);
      else userIds.set(id, `${path}.id`);
    }
    if (email !== undefined) {
      const first = emails.get(email.toLowerCase());
      if (first) check.fail(`${path}.email`, `"${email}" repeats ${first} (letter case is ignored)`);
      else emails.set(email.toLowerCase(), `${path}.email`);
    }
    if (id !== undefined && name !== undefined && email !== undefined) users.push({ id, name, email });
  });

  const userExists = (parent: JsonObject, key: string, path: string): string | undefined => {
    const id = check.text(parent, key, path);
    if (id === undefined || userIds.has(id)) return id;
    return check.fail(path, `"${id}" is not the id of any user`);
  };

  const projects: { code: string; piUserId: string }[] = [];
  const projectCodes = new Map<string, string>();
  check.array(root, 'projects', 'projects').forEach((item, index) => {
    const path = `projects[${index}]`;
    const project = check.object(item, path);
    if (!project) return;
    const code = check.matching(project, 'code', `${path}.code`, PROJECT_CODE, 'an ALMA project code like 2017.1.00727.S');
    const piUserId = userExists(project, 'piUserId', `${path}.piUserId`);
    if (code !== undefined) {
      const first = projectCodes.get(code);
      if (first) check.fail(`${path}.code`, `"${code}" repeats ${first}`);
      else projectCodes.set(code, `${path}.code`);
    }
    if (code !== undefined && piUserId !== undefined) projects.push({ code, piUserId });
  });

  const projectExists = (parent: JsonObject, key: string, path: string): string | undefined => {
    const code = check.text(parent, key, path);
    if (code === undefined || projectCodes.has(code)) return code;
    return check.fail(path, `"${code}" is not the code of any project`);
  };

  const delegations: { projectCode: string; userId: string; type: DelegationType }[] = [];
  const delegationKeys = new Map<string, string>();
  check.array(root, 'delegations', 'delegations').forEach((item, index) => {
    const path = `delegations[${index}]`;
    const delegation = check.object(item, path);
    if (!delegation) return;
    const projectCode = projectExists(delegation, 'projectCode', `${path}.projectCode`);
    const userId = userExists(delegation, 'userId', `${path}.userId`);
    const type = check.oneOf(delegation, 'type', `${path}.type`, DELEGATION_TYPES);
    if (projectCode === undefined || userId === undefined || type === undefined) return;
    const key = `${projectCode}\u0000${userId}\u0000${type}`;
    const first = delegationKeys.get(key);
    if (first) check.fail(path, `repeats ${first}`);
    else {
      delegationKeys.set(key, path);
      delegations.push({ projectCode, userId, type });
    }
  });

  const mous: MousRecord[] = [];
  const mousUids = new Map<string, string>();
  const execBlockUids = new Map<string, string>();
  const uidExpected = 'an ALMA uid like uid://A001/X1296/X675 or uid___A001_X1296_X675 (at most 16 hex digits after each X)';
  check.array(root, 'mous', 'mous').forEach((item, index) => {
    const path = `mous[${index}]`;
    const entry = check.object(item, path);
    if (!entry) return;
    const given = check.text(entry, 'uid', `${path}.uid`);
    let uid: string | undefined;
    if (given !== undefined && !isAlmaUid(given)) check.fail(`${path}.uid`, `must be ${uidExpected}, got "${given}"`);
    else if (given !== undefined) {
      uid = toFileNameUid(given);
      const first = mousUids.get(uid);
      if (first) check.fail(`${path}.uid`, `"${given}" repeats ${first}`);
      else mousUids.set(uid, `${path}.uid`);
    }
    const projectCode = projectExists(entry, 'projectCode', `${path}.projectCode`);
    const state = check.text(entry, 'state', `${path}.state`);

    let releaseDate: string | null | undefined;
    const rawDate = entry.releaseDate;
    if (rawDate === undefined) check.fail(`${path}.releaseDate`, 'is missing (use null when the archive has none)');
    else if (rawDate === null) releaseDate = null;
    else if (typeof rawDate === 'string' && isCalendarDate(rawDate)) releaseDate = rawDate;
    else check.fail(`${path}.releaseDate`, `must be null or a date YYYY-MM-DD, got ${JSON.stringify(rawDate)}`);

    const execBlocks: ExecBlock[] = [];
    check.array(entry, 'execBlocks', `${path}.execBlocks`).forEach((blockItem, blockIndex) => {
      const blockPath = `${path}.execBlocks[${blockIndex}]`;
      const block = check.object(blockItem, blockPath);
      if (!block) return;
      const blockGiven = check.text(block, 'uid', `${blockPath}.uid`);
      let blockUid: string | undefined;
      if (blockGiven !== undefined && !isAlmaUid(blockGiven)) {
        check.fail(`${blockPath}.uid`, `must be ${uidExpected}, got "${blockGiven}"`);
      } else if (blockGiven !== undefined) {
        blockUid = toFileNameUid(blockGiven);
        const first = execBlockUids.get(blockUid);
        if (first) check.fail(`${blockPath}.uid`, `"${blockGiven}" repeats ${first}`);
        else execBlockUids.set(blockUid, `${blockPath}.uid`);
      }
      const qa0 = check.oneOf(block, 'qa0', `${blockPath}.qa0`, QA0_VALUES as readonly Qa0Status[]);
      const fields: ObservedField[] = [];
      const fieldNames = new Map<string, string>();
      check.array(block, 'fields', `${blockPath}.fields`).forEach((item, fieldIndex) => {
        const fieldPath = `${blockPath}.fields[${fieldIndex}]`;
        const field = observedField(check, item, fieldPath);
        if (!field) return;
        const first = fieldNames.get(field.name);
        if (first) check.fail(fieldPath, `"${field.name}" repeats ${first}`);
        else {
          fieldNames.set(field.name, fieldPath);
          fields.push(field);
        }
      });
      if (blockUid !== undefined && qa0 !== undefined) execBlocks.push({ uid: blockUid, qa0, fields });
    });

    if (uid !== undefined && projectCode !== undefined && state !== undefined && releaseDate !== undefined) {
      mous.push({ uid, projectCode, state, releaseDate, execBlocks });
    }
  });

  if (check.problems.length > 0) throw new SnapshotError(check.problems);
  return { users, projects, delegations, mous };
}

/**
 * Reads and checks a snapshot file.
 * @throws SnapshotError naming the file when it cannot be read, is not JSON, or fails {@link parseSnapshot}
 * @example readSnapshotFile('localstack/archive/snapshot.json')
 */
export function readSnapshotFile(snapshotPath: string): ArchiveSnapshot {
  const source = `archive snapshot ${snapshotPath}`;
  let text: string;
  try {
    text = readFileSync(snapshotPath, 'utf8');
  } catch (error) {
    throw new SnapshotError([`not readable: ${error instanceof Error ? error.message : String(error)}`], source);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SnapshotError([`not JSON: ${error instanceof Error ? error.message : String(error)}`], source);
  }
  try {
    return parseSnapshot(json);
  } catch (error) {
    if (error instanceof SnapshotError) throw new SnapshotError(error.problems, source);
    throw error;
  }
}
