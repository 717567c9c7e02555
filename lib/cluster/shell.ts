/**
 * The only way a value reaches a cluster node's shell.
 *
 * Two defences, both always applied by {@link quote}: the value must match the strict pattern of its kind
 * (so a MOUS is a MOUS and nothing else), and it is single-quoted (so even a value a pattern let through by
 * mistake is one literal word: no `$(…)`, backticks, `;`, quotes or newlines are ever interpreted).
 */
import { FIELD_LIST, FIELD_NAME, HELPDESK_TICKET, PROJECT_CODE, REQUEST_ID, UID_FILE_NAME, UID_FILE_NAME_SOURCE } from '../domain/identifiers';
import { UnsafeShellValueError } from './errors';

/** A path segment: any name except `.` and `..`, so no value can climb out of the directory it names. */
const SEGMENT = String.raw`(?!\.{1,2}(?:/|$))[A-Za-z0-9._+-]+`;

export const SHELL_VALUE_PATTERNS = {
  /** MOUS in file-name form, e.g. `uid___A001_X1296_X675`. */
  mous: UID_FILE_NAME,
  /** A calibrated MS directory, e.g. `uid___A002_Xd33a12_X15be.ms.split.cal`. */
  measurementSet: new RegExp(`^${UID_FILE_NAME_SOURCE}\\.ms\\.split\\.cal$`),
  /** ALMA project code, e.g. `2017.1.00727.S` or the DDT form `2019.A.00012.S`. */
  projectCode: PROJECT_CODE,
  helpdeskTicket: HELPDESK_TICKET,
  requestId: REQUEST_ID,
  /** One calibrator field name, e.g. `J0510+1800` (the procedure permits no spaces). */
  field: FIELD_NAME,
  /** Calibrator field names joined by commas, as the procedure writes them. */
  fieldList: FIELD_LIST,
  absolutePath: new RegExp(`^(?:/${SEGMENT}){1,64}$`),
  /** An absolute path, or a file name resolved by the node (its PATH or the work directory). */
  command: new RegExp(`^(?:(?:/${SEGMENT}){1,64}|${SEGMENT})$`),
  casaBuild: /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/,
  /** A process id (plain jobs) or a Slurm job id. */
  jobId: /^\d{1,12}$/,
  /** A size or offset in bytes. */
  byteCount: /^(?:0|[1-9]\d{0,15})$/,
  /** A whole number of seconds, up to about 11 days. */
  seconds: /^(?:0|[1-9]\d{0,5})$/,
} as const;

export type ShellValueKind = keyof typeof SHELL_VALUE_PATTERNS;

/**
 * Checks `value` against the pattern of `kind` and returns it single-quoted for a POSIX shell.
 * @throws UnsafeShellValueError when the value does not match; nothing should be sent then.
 * @example quote('uid___A001_X1296_X675', 'mous') // "'uid___A001_X1296_X675'"
 */
export function quote(value: string, kind: ShellValueKind): string {
  if (!SHELL_VALUE_PATTERNS[kind].test(value)) {
    throw new UnsafeShellValueError(`Refusing to send ${JSON.stringify(value.slice(0, 200))} to the cluster: not a valid ${kind}`);
  }
  return singleQuote(value);
}

/**
 * Single-quotes any string for a POSIX shell: inside single quotes nothing is special, and a single quote
 * itself is written as `'\''` (close, escaped quote, reopen). Exported so tests can prove it against bash.
 */
export function singleQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
