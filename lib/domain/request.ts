/**
 * What ARC staff submit for one helpdesk ticket, and the rules it must meet before anything is written.
 * Pure: no I/O, so every rule is unit-tested on its own.
 */
import {
  FIELD_NAME,
  HELPDESK_TICKET,
  isProjectCode,
  MAX_CALIBRATOR_FIELDS,
  MAX_FIELD_NAME_LENGTH,
  normaliseMousUid,
  REQUEST_ID_MAX_LENGTH,
  requestId,
  requestIdLength,
} from './identifiers';

export interface TicketRequest {
  readonly projectCode: string;
  readonly userName: string;
  readonly userEmail: string;
  readonly helpdeskTicket: string;
  /** The ARC staff member handling the ticket. */
  readonly arcContact: string;
  /** MOUS UIDs in file-name form (`uid___A001_X1296_X675`), in the order given. */
  readonly mous: readonly string[];
  /** Empty unless only calibrator data was asked for. */
  readonly calibratorFields: readonly string[];
  /** Go on even if a trigger for the MOUS is still active. */
  readonly force: boolean;
}

export interface ValidationProblem {
  /** Path of the offending field in the request body, e.g. `mous[2]`. */
  readonly field: string;
  /** The rule it broke, phrased for the person who typed it. */
  readonly message: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: ValidationProblem };

export const MAX_MOUS_PER_REQUEST = 10;

export { isProjectCode, mousUidUri, normaliseMousUid, ticketAndMousOf } from './identifiers';

/** Deliberately plain: an address a helpdesk profile holds, with no display name, quotes or comments. */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** Unicode format characters (bidi overrides such as U+202E, zero-width characters): they make a name read differently from what it is. */
const FORMAT_CHARACTERS = /\p{Cf}/u;

/** Cycle 0 calibrated data was ingested into the archive directly; CalMS does not produce it. */
export function isCycle0(projectCode: string): boolean {
  return projectCode.startsWith('2011.0.');
}

export function isEmailAddress(text: string): boolean {
  return text.length <= 254 && EMAIL.test(text);
}

const fail = (field: string, message: string): Parsed<never> => ({ ok: false, problem: { field, message } });

function requiredString(body: Record<string, unknown>, field: string): Parsed<string> {
  const value = body[field];
  if (value === undefined || value === null) return fail(field, `${field} is required`);
  if (typeof value !== 'string') return fail(field, `${field} must be a string`);
  const trimmed = value.trim();
  if (!trimmed) return fail(field, `${field} must not be empty`);
  return { ok: true, value: trimmed };
}

function email(body: Record<string, unknown>, field: string): Parsed<string> {
  const text = requiredString(body, field);
  if (!text.ok) return text;
  if (!isEmailAddress(text.value)) return fail(field, `${field} must be a plain email address like name@example.org`);
  return text;
}

function parseMousList(value: unknown, ticket: string): Parsed<string[]> {
  if (value === undefined || value === null) return fail('mous', 'mous is required: a list of 1 to 10 MOUS UIDs');
  if (!Array.isArray(value)) return fail('mous', 'mous must be a list of MOUS UIDs');
  if (value.length < 1 || value.length > MAX_MOUS_PER_REQUEST) {
    return fail('mous', `mous must list 1 to ${MAX_MOUS_PER_REQUEST} MOUS UIDs, got ${value.length}`);
  }
  const seen = new Map<string, number>();
  const result: string[] = [];
  for (const [index, item] of value.entries()) {
    const field = `mous[${index}]`;
    const uid = typeof item === 'string' ? normaliseMousUid(item.trim()) : undefined;
    if (!uid) {
      return fail(field, `${field} must be a MOUS UID like uid://A001/X1296/X675 or uid___A001_X1296_X675 (at most 16 hex digits after each X)`);
    }
    const idLength = requestIdLength(ticket, uid);
    if (idLength > REQUEST_ID_MAX_LENGTH) {
      return fail(
        field,
        `${field} is too long for helpdesk ticket ${ticket}: its request id would have ${idLength} characters, more than the ${REQUEST_ID_MAX_LENGTH} the cluster and Step Functions allow`,
      );
    }
    const earlier = seen.get(uid);
    if (earlier !== undefined) return fail(field, `${field} repeats mous[${earlier}] (${uid})`);
    seen.set(uid, index);
    result.push(uid);
  }
  return { ok: true, value: result };
}

function parseCalibratorFields(value: unknown): Parsed<string[]> {
  if (value === undefined || value === null) return { ok: true, value: [] };
  if (!Array.isArray(value)) return fail('calibratorFields', 'calibratorFields must be a list of field names');
  if (value.length > MAX_CALIBRATOR_FIELDS) {
    return fail('calibratorFields', `calibratorFields may name at most ${MAX_CALIBRATOR_FIELDS} fields, got ${value.length}`);
  }
  const result: string[] = [];
  for (const [index, item] of value.entries()) {
    const field = `calibratorFields[${index}]`;
    if (typeof item !== 'string' || !item.trim()) return fail(field, `${field} must be a field name`);
    if (/[\s,]/.test(item.trim())) return fail(field, `${field} must not contain spaces or commas`);
    if (!FIELD_NAME.test(item.trim())) {
      return fail(
        field,
        `${field} may only use letters, digits and + - _ ., must start with a letter or digit, and has at most ${MAX_FIELD_NAME_LENGTH} characters`,
      );
    }
    if (result.includes(item.trim())) return fail(field, `${field} repeats "${item.trim()}"`);
    result.push(item.trim());
  }
  return { ok: true, value: result };
}

/** Validates a `POST /requests` body; the first problem found is reported. */
export function parseTicketRequest(body: unknown): Parsed<TicketRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('body', 'the request body must be a JSON object');
  }
  const fields = body as Record<string, unknown>;

  const projectCode = requiredString(fields, 'projectCode');
  if (!projectCode.ok) return projectCode;
  if (!isProjectCode(projectCode.value)) {
    return fail('projectCode', 'projectCode must look like 2017.1.00727.S (year.cycle.number.type, type one of S T V L P)');
  }
  const userName = requiredString(fields, 'userName');
  if (!userName.ok) return userName;
  if (CONTROL_CHARACTERS.test(userName.value) || userName.value.length > 200) {
    return fail('userName', 'userName must be one line of at most 200 characters');
  }
  if (FORMAT_CHARACTERS.test(userName.value)) {
    return fail('userName', 'userName must not contain invisible formatting characters (bidirectional overrides, zero-width characters)');
  }
  const userEmail = email(fields, 'userEmail');
  if (!userEmail.ok) return userEmail;
  const ticket = requiredString(fields, 'helpdeskTicket');
  if (!ticket.ok) return ticket;
  if (!HELPDESK_TICKET.test(ticket.value)) return fail('helpdeskTicket', 'helpdeskTicket must be the ticket number: digits only');
  const arcContact = email(fields, 'arcContact');
  if (!arcContact.ok) return arcContact;
  const mous = parseMousList(fields.mous, ticket.value);
  if (!mous.ok) return mous;
  const calibratorFields = parseCalibratorFields(fields.calibratorFields);
  if (!calibratorFields.ok) return calibratorFields;
  const force = fields.force ?? false;
  if (typeof force !== 'boolean') return fail('force', 'force must be true or false');

  return {
    ok: true,
    value: {
      projectCode: projectCode.value,
      userName: userName.value,
      userEmail: userEmail.value,
      helpdeskTicket: ticket.value,
      arcContact: arcContact.value,
      mous: mous.value,
      calibratorFields: calibratorFields.value,
      force,
    },
  };
}

/** One MOUS of a ticket, as an execution processes it. Travels in the execution input as plain JSON. */
export interface MousRequest {
  /** Also the execution name: ticket, MOUS and submission time, so operators recognise it. */
  readonly requestId: string;
  readonly projectCode: string;
  readonly userName: string;
  readonly userEmail: string;
  readonly helpdeskTicket: string;
  readonly arcContact: string;
  readonly mous: string;
  readonly calibratorFields: readonly string[];
  /** ISO 8601, UTC. */
  readonly requestedAt: string;
  /** `trigger-<MOUS>-YYYY-MM-DDThh-mm-ss.txt` */
  readonly triggerName: string;
  /** Message-ID of the request email to AOG; every later email about this MOUS threads to it. */
  readonly requestMessageId: string;
  /** Set in the executions of a re-drive (`calms redrive`): 1 for the first. */
  readonly redrive?: number;
}

/** What every log line about a request carries, so that one grep follows it through every function. */
export function requestLogKeys(request: Pick<MousRequest, 'requestId' | 'helpdeskTicket' | 'mous'>) {
  return { requestId: request.requestId, ticket: request.helpdeskTicket, mous: request.mous };
}

/** `trigger-uid___A001_X1296_X675-2019-09-02T14-00-27.txt`, in UTC. */
export function triggerName(mous: string, at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace(/:/g, '-');
  return `trigger-${mous}-${stamp}.txt`;
}

/**
 * Builds the per-MOUS request. `suffix` (a few random characters) keeps two forced requests in the same
 * second apart; `mailDomain` is the domain of the sender address.
 */
export function mousRequest(ticket: TicketRequest, mous: string, at: Date, suffix: string, mailDomain: string): MousRequest {
  const id = requestId(ticket.helpdeskTicket, mous, at, suffix);
  return {
    requestId: id,
    projectCode: ticket.projectCode,
    userName: ticket.userName,
    userEmail: ticket.userEmail,
    helpdeskTicket: ticket.helpdeskTicket,
    arcContact: ticket.arcContact,
    mous,
    calibratorFields: ticket.calibratorFields,
    requestedAt: at.toISOString(),
    triggerName: triggerName(mous, at),
    requestMessageId: `<${id}@${mailDomain}>`,
  };
}
