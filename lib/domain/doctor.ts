/**
 * The smoke check (`calms doctor`, issue 18): what one check found, and the line it prints. The checks run partly
 * in the CLI (whether the API answers) and partly server side (lib/operations/doctor.ts); both report here.
 */
import { isJsonObject } from '../json';

/** One check's outcome; `fix` says what to do about a failure. */
export interface CheckResult {
  /** What was checked, e.g. `SMTP relay 127.0.0.1:1025` or `SSH 127.0.0.1:2222`. */
  readonly name: string;
  readonly ok: boolean;
  /** What was found: the good news, or why the check failed. */
  readonly detail: string;
  /** Present exactly when the check failed. */
  readonly fix?: string;
}

/** What `GET /doctor` answers: the server-side checks, in order. */
export interface DoctorReport {
  readonly checks: readonly CheckResult[];
}

export const passed = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
export const failed = (name: string, detail: string, fix: string): CheckResult => ({ name, ok: false, detail, fix });

/**
 * `ok    archive: answered a lookup` or `FAIL  SSH 127.0.0.1:2223: … Fix: …`: one line per check, the mark
 * first so that `grep FAIL` finds the failures.
 */
export function checkLine(result: CheckResult): string {
  const line = `${result.ok ? 'ok  ' : 'FAIL'}  ${result.name}: ${result.detail}${result.fix ? ` Fix: ${result.fix}` : ''}`;
  return line.replace(/\s*\n\s*/g, ' ');
}

export const allPassed = (results: readonly CheckResult[]): boolean => results.every((result) => result.ok);

function isCheckResult(value: unknown): value is CheckResult {
  return (
    isJsonObject(value) &&
    typeof value.name === 'string' &&
    typeof value.ok === 'boolean' &&
    typeof value.detail === 'string' &&
    (value.ok ? value.fix === undefined : typeof value.fix === 'string')
  );
}

export const isDoctorReport = (value: unknown): value is DoctorReport =>
  isJsonObject(value) && Array.isArray(value.checks) && value.checks.every(isCheckResult);

/** How the call of `GET /doctor` went, as far as the API itself is concerned. */
export type ApiOutcome =
  | { readonly kind: 'answered' }
  | { readonly kind: 'unreachable'; readonly message: string }
  | { readonly kind: 'status'; readonly status: number; readonly message: string };

/** The first check: the API answers at CALMS_API_URL and takes the key of CALMS_API_KEY. */
export function apiCheck(apiUrl: string, outcome: ApiOutcome): CheckResult {
  const name = `API ${apiUrl}`;
  if (outcome.kind === 'answered') return passed(name, 'answers with the API key');
  if (outcome.kind === 'unreachable') {
    return failed(name, outcome.message, 'Check CALMS_API_URL (the stack output ServiceEndpoint) and that the stack is deployed.');
  }
  const { status, message } = outcome;
  if (status === 401 || status === 403) {
    return failed(
      name,
      `refused the API key (HTTP ${status})`,
      'Check CALMS_API_KEY: aws apigateway get-api-key --api-key <ApiKeyId> --include-value.',
    );
  }
  if (status === 404) {
    return failed(
      name,
      'has no GET /doctor (HTTP 404)',
      'Check CALMS_API_URL, stage included (…/prod); a stack deployed before calms doctor existed needs deploying again.',
    );
  }
  return failed(
    name,
    `the server-side checks did not run (HTTP ${status}${message ? `: ${message}` : ''})`,
    'Read the log group /aws/lambda/calms-<stage>-doctor (locally .calms/logs/serverless-offline.log) for the cause.',
  );
}
