/** `calms doctor`: the API's own check, then the checks `GET /doctor` ran server side. */
import { type ApiOutcome, apiCheck, type CheckResult } from '../domain/doctor';
import { type ApiTarget, ApiUnreachableError, type FetchFunction, getDoctorReport } from './api';

export async function deploymentChecks(fetchFn: FetchFunction, target: ApiTarget): Promise<{ api: CheckResult; server: readonly CheckResult[] }> {
  let outcome: ApiOutcome;
  let server: readonly CheckResult[] = [];
  try {
    const answer = await getDoctorReport(fetchFn, target);
    if (answer.kind === 'ok') {
      outcome = { kind: 'answered' };
      server = answer.value.checks;
    } else {
      outcome = { kind: 'status', status: answer.status, message: answer.kind === 'error' ? answer.message : answer.text.trim().slice(0, 300) };
    }
  } catch (error) {
    if (!(error instanceof ApiUnreachableError)) throw error;
    outcome = { kind: 'unreachable', message: error.message };
  }
  return { api: apiCheck(target.apiUrl, outcome), server };
}
