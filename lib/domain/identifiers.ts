/**
 * The identifiers CalMS handles, each pattern written once. Intake, the archive snapshot loader, the shell layer
 * (lib/cluster/shell.ts) and the operators' routes all test against these, so a value one of them accepts is
 * never one another refuses: what the cluster's shell would refuse is already refused at intake, with a 400.
 */

/** `YYYY.C.NNNNN.T`: C is the cycle digit or a DDT letter, T the proposal type. */
export const PROJECT_CODE = /^(\d{4})\.([0-9A-Z])\.(\d{5})\.([STVLP])$/;

/**
 * The parts of an ALMA uid (MOUS or execution block). Hex parts are bounded so that a request id made of the
 * longest ticket and uid still fits {@link REQUEST_ID_MAX_LENGTH} after the check in {@link requestIdLength}.
 */
const UID_ARCHIVE = String.raw`A\d{3}`;
const UID_HEX = 'X[0-9A-Fa-f]{1,16}';

/** A uid in file-name form, as a pattern source to build other patterns from (the shell's MS names). */
export const UID_FILE_NAME_SOURCE = `uid___${UID_ARCHIVE}_${UID_HEX}_${UID_HEX}`;

const UID_URI = new RegExp(`^uid://(${UID_ARCHIVE})/(${UID_HEX})/(${UID_HEX})$`);
const UID_FILE_NAME_PARTS = new RegExp(`^uid___(${UID_ARCHIVE})_(${UID_HEX})_(${UID_HEX})$`);

/** A MOUS or execution-block uid in file-name form, e.g. `uid___A001_X1296_X675`. */
export const UID_FILE_NAME = new RegExp(`^${UID_FILE_NAME_SOURCE}$`);

/** `uid://A001/X1296/X675` or `uid___A001_X1296_X675` → `uid___A001_X1296_X675`; undefined if neither. */
export function normaliseMousUid(text: string): string | undefined {
  const match = UID_URI.exec(text) ?? UID_FILE_NAME_PARTS.exec(text);
  return match ? `uid___${match[1]}_${match[2]}_${match[3]}` : undefined;
}

/** `uid___A001_X11f_X9c` → `uid://A001/X11f/X9c`, the form ALMA staff type and the seed's failure line shows. */
export function mousUidUri(mous: string): string {
  const match = UID_FILE_NAME_PARTS.exec(mous);
  return match ? `uid://${match[1]}/${match[2]}/${match[3]}` : mous;
}

export function isProjectCode(text: string): boolean {
  return PROJECT_CODE.test(text);
}

/** A helpdesk ticket number. */
export const HELPDESK_TICKET = /^\d{1,10}$/;

/**
 * A calibrator or source name as the archive spells them: no spaces or commas, nothing a shell treats specially,
 * and no leading `-`, `+`, `.` or `_`, so it can never be read as an option of the restore script.
 */
export const MAX_FIELD_NAME_LENGTH = 64;
const FIELD_NAME_SOURCE = `[A-Za-z0-9][A-Za-z0-9+._-]{0,${MAX_FIELD_NAME_LENGTH - 1}}`;
export const FIELD_NAME = new RegExp(`^${FIELD_NAME_SOURCE}$`);

/** How many calibrator fields one request may name. */
export const MAX_CALIBRATOR_FIELDS = 64;

/** Calibrator field names joined by commas, as the procedure passes them to the restore script. */
export const FIELD_LIST = new RegExp(`^${FIELD_NAME_SOURCE}(?:,${FIELD_NAME_SOURCE}){0,${MAX_CALIBRATOR_FIELDS - 1}}$`);

/** Step Functions' limit on execution names. */
export const EXECUTION_NAME_MAX_LENGTH = 80;

/**
 * A request id is also the execution name, and a re-drive's execution is `<request id>-redrive-<n>`: 70
 * characters leave room for nine re-drives of any request.
 */
export const REQUEST_ID_MAX_LENGTH = EXECUTION_NAME_MAX_LENGTH - '-redrive-9'.length;

/** What may stand where a request id is expected (the shell, the operators' routes); intake makes them as {@link requestId}. */
export const REQUEST_ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${REQUEST_ID_MAX_LENGTH - 1}}$`);

export function isRequestId(text: string): boolean {
  return REQUEST_ID.test(text);
}

/** Random characters at the end of a request id, keeping two forced requests of the same second apart. */
export const REQUEST_ID_SUFFIX_LENGTH = 8;

function compactTimestamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** `t<ticket>-<MOUS>-<YYYYMMDDThhmmssZ>-<suffix>`: an operator recognises the ticket and the MOUS in it. */
export function requestId(ticket: string, mous: string, at: Date, suffix: string): string {
  return `t${ticket}-${mous}-${compactTimestamp(at)}-${suffix}`;
}

/** The length of every request id {@link requestId} makes for this ticket and MOUS. */
export function requestIdLength(ticket: string, mous: string): number {
  return requestId(ticket, mous, new Date(0), 'x'.repeat(REQUEST_ID_SUFFIX_LENGTH)).length;
}

/** `t<ticket>-<MOUS>-<time>-<random>`, as {@link requestId} makes it. */
const REQUEST_ID_PARTS = new RegExp(String.raw`^t(\d{1,10})-(${UID_FILE_NAME_SOURCE})-\d{8}T\d{6}Z-`);

/** The ticket and MOUS a request id is made of; undefined for text that is no request id. */
export function ticketAndMousOf(text: string): { readonly helpdeskTicket: string; readonly mous: string } | undefined {
  const parts = REQUEST_ID_PARTS.exec(text);
  return parts ? { helpdeskTicket: parts[1]!, mous: parts[2]! } : undefined;
}
