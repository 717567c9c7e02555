/**
 * `calms`: the command line ARC staff use instead of `triggerCalMSCreation.sh`, and operators use to see the
 * staging queue, the status of requests and the active triggers, to cancel, keep, resend and re-drive, and to check a deployment. All I/O comes in through {@link CliIo}, so tests run it with fake streams and a fake fetch.
 */
import type { Readable, Writable } from 'node:stream';
import { type CliConfig, cliConfig, ConfigurationError, VARIABLES } from '../config';
import { allPassed, checkLine } from '../domain/doctor';
import { statisticsCsv } from '../domain/statistics';
import type { MousResult } from '../intake/submitRequest';
import {
  type ApiAnswer,
  type ApiFailure,
  ApiUnreachableError,
  type ApiTarget,
  type FetchFunction,
  cancelRequest,
  findRequests,
  getQueue,
  getRequestStatus,
  getStatistics,
  getTriggers,
  keepDelivery,
  type OperationAnswer,
  operationUrl,
  postRequest,
  redriveRequest,
  requestBody,
  requestPath,
  type ResolvedRequest,
  requestsUrl,
  resendDownloadEmail,
  statisticsPath,
} from './api';
import { type HelpTopic, parseCommandLine } from './args';
import { CLI_CONFIG_FILE_SHOWN } from './configFile';
import { deploymentChecks } from './doctor';
import { askYesNo } from './prompt';
import { formatCancel, formatKeep, formatRedrive, formatResend, formatStatus, formatStatuses, formatTriggers } from './operationsText';
import { formatQueue } from './queueTable';
import { formatStatistics } from './statisticsTable';
import {
  CANCEL_USAGE,
  DOCTOR_USAGE,
  KEEP_USAGE,
  MAIN_USAGE,
  QUEUE_USAGE,
  STATS_USAGE,
  REDRIVE_USAGE,
  REQUEST_USAGE,
  RESEND_USAGE,
  STATUS_USAGE,
  TRIGGERS_USAGE,
} from './usage';

export const ExitCode = {
  OK: 0,
  /**
   * CalMS refused the request: Cycle 0, no QA0_PASS data, wrong project, unknown calibrator field. For the
   * operators' commands: nothing found, or not possible now (no delivery, already ended). For `calms doctor`: a
   * check failed.
   */
  REFUSED: 1,
  /** Wrong arguments or configuration, or a value the server found invalid (VALIDATION_ERROR). */
  USAGE: 2,
  /** A trigger for the MOUS is still active and the request was not sent again with force. */
  DUPLICATE_ABORTED: 3,
  /** The API could not be reached, refused the key, or could not take the request (or show the queue) now. */
  UNAVAILABLE: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface CliIo {
  /** Arguments after the script, i.e. `process.argv.slice(2)`. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Asked on only when it is a terminal (`isTTY`). */
  readonly stdin: Readable & { readonly isTTY?: boolean };
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly fetch: FetchFunction;
}

export const DUPLICATE_QUESTION = 'Abort this duplicate request? [Y/n] ';

const CHECK_THE_SERVICE = 'Check CALMS_API_URL and that the CalMS service is running.';

/** The request's body field → the argument that supplied it, for VALIDATION_ERROR messages. */
function argumentOf(field: string): string | undefined {
  const name = field.replace(/\[\d+\]$/, '');
  const names: Record<string, string> = {
    projectCode: '<proj code>',
    userName: '<user name>',
    userEmail: '<user email>',
    helpdeskTicket: '<ticket>',
    mous: '<MOUS UID>',
    calibratorFields: '<calibrator fields>',
    arcContact: '--arc-contact',
  };
  return names[name];
}

export async function runCli(io: CliIo): Promise<ExitCode> {
  const out = (text: string): void => void io.stdout.write(`${text}\n`);
  const err = (text: string): void => void io.stderr.write(`${text}\n`);

  const parsed = parseCommandLine(io.argv);
  if (!parsed.ok) {
    err(parsed.message);
    err(`Run "calms ${parsed.topic === 'main' ? '' : `${parsed.topic} `}--help" for usage.`);
    return ExitCode.USAGE;
  }
  if (parsed.command.kind === 'help') {
    io.stdout.write(HELP_TEXTS[parsed.command.topic]);
    return ExitCode.OK;
  }

  let target: CliConfig;
  try {
    target = cliConfig(io.env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    err(`calms: configuration problem: ${error.message}`);
    return ExitCode.USAGE;
  }
  if (!/^https?:$/.test(URL.canParse(target.apiUrl) ? new URL(target.apiUrl).protocol : '')) {
    err(`calms: configuration problem: CALMS_API_URL must be an http(s) URL such as ${VARIABLES.CALMS_API_URL.default}, got "${target.apiUrl}"`);
    return ExitCode.USAGE;
  }
  const command = parsed.command;
  const operate = <T>(
    path: string,
    call: () => Promise<OperationAnswer<T>>,
    format: (value: T) => string,
    empty?: (value: T) => string | undefined,
  ) => runOperation(io, operationUrl(target.apiUrl, path), call, 'json' in command && command.json === true, format, out, err, empty);
  switch (command.kind) {
    case 'queue':
      return operate('queue', () => getQueue(io.fetch, target), formatQueue);
    case 'status': {
      const { target: asked } = command;
      if ('requestId' in asked) return operate(requestPath(asked.requestId), () => getRequestStatus(io.fetch, target, asked.requestId), formatStatus);
      const what = 'ticket' in asked ? `helpdesk ticket ${asked.ticket}` : `MOUS ${asked.mous}`;
      return operate(
        'requests',
        () => findRequests(io.fetch, target, asked),
        ({ requests }) => formatStatuses(requests),
        ({ requests }) => (requests.length === 0 ? `No request found for ${what}.` : undefined),
      );
    }
    case 'triggers':
      return operate(
        'triggers',
        () => getTriggers(io.fetch, target),
        ({ triggers }) => formatTriggers(triggers),
      );
    case 'stats': {
      const range = { from: command.from, to: command.to };
      return operate(statisticsPath(range), () => getStatistics(io.fetch, target, range), command.csv ? statisticsCsv : formatStatistics);
    }
    case 'cancel':
      return operate(requestPath(command.requestId, 'cancel'), () => cancelRequest(io.fetch, target, command.requestId), formatCancel);
    case 'keep':
      return operate(requestPath(command.requestId, 'keep'), () => keepDelivery(io.fetch, target, command.requestId, command.undo), formatKeep);
    case 'resend':
      return operate(requestPath(command.requestId, 'resend'), () => resendDownloadEmail(io.fetch, target, command.requestId), formatResend);
    case 'redrive':
      return operate(requestPath(command.requestId, 'redrive'), () => redriveRequest(io.fetch, target, command.requestId), formatRedrive);
    case 'doctor': {
      const { api, server } = await deploymentChecks(io.fetch, target);
      const checks = [api, ...server];
      if (command.json) out(JSON.stringify({ checks }, null, 2));
      else for (const check of checks) out(checkLine(check));
      if (!api.ok) return ExitCode.UNAVAILABLE;
      return allPassed(checks) ? ExitCode.OK : ExitCode.REFUSED;
    }
    case 'request': {
      const arcContact = command.request.arcContact ?? target.arcContact;
      if (!arcContact) {
        err(
          "calms request: no ARC contact: give --arc-contact <email> (your own address as the EU ARC contact of the ticket; AOG's email is copied to it), " +
            `or set it once as CALMS_ARC_CONTACT in the environment or in ${CLI_CONFIG_FILE_SHOWN}`,
        );
        err('Run "calms request --help" for usage.');
        return ExitCode.USAGE;
      }
      return new RequestSession(io, target, { ...command.request, arcContact }, out, err).run();
    }
  }
}

const HELP_TEXTS: Record<HelpTopic, string> = {
  main: MAIN_USAGE,
  request: REQUEST_USAGE,
  queue: QUEUE_USAGE,
  status: STATUS_USAGE,
  triggers: TRIGGERS_USAGE,
  stats: STATS_USAGE,
  cancel: CANCEL_USAGE,
  keep: KEEP_USAGE,
  resend: RESEND_USAGE,
  redrive: REDRIVE_USAGE,
  doctor: DOCTOR_USAGE,
};

/**
 * One operator's call: the readable text of `format`, or with `--json` the answer's JSON. `empty` says when a
 * successful answer found nothing (exit 1, with its message). Errors are printed as `calms request` prints them.
 */
async function runOperation<T>(
  io: CliIo,
  url: string,
  call: () => Promise<OperationAnswer<T>>,
  json: boolean,
  format: (value: T) => string,
  out: (text: string) => void,
  err: (text: string) => void,
  empty: (value: T) => string | undefined = () => undefined,
): Promise<ExitCode> {
  let answer: OperationAnswer<T>;
  try {
    answer = await call();
  } catch (error) {
    if (!(error instanceof ApiUnreachableError)) throw error;
    err(error.message);
    err(CHECK_THE_SERVICE);
    return ExitCode.UNAVAILABLE;
  }
  if (answer.kind !== 'ok') {
    if (answer.kind === 'error' && answer.code === 'VALIDATION_ERROR') {
      err(`Invalid ${answer.field ?? 'value'}: ${answer.message}`);
      return ExitCode.USAGE;
    }
    err(failureMessage(answer, url));
    // The service answered "no" (unknown request, no delivery, already ended): nothing to retry.
    return answer.kind === 'error' && (answer.status === 404 || answer.status === 409) ? ExitCode.REFUSED : ExitCode.UNAVAILABLE;
  }
  const nothing = empty(answer.value);
  if (json) out(JSON.stringify(answer.value, null, 2));
  else if (!nothing) io.stdout.write(format(answer.value));
  if (nothing) {
    err(nothing);
    return ExitCode.REFUSED;
  }
  return ExitCode.OK;
}

/** Why the API at `url` gave no usable answer: the server's message, or what its status says. */
function failureMessage(answer: ApiFailure, url: string): string {
  if (answer.kind === 'error') return answer.message;
  if (answer.status === 401 || answer.status === 403) {
    return `The CalMS API at ${url} refused the API key (HTTP ${answer.status}). Check CALMS_API_KEY.`;
  }
  if (answer.status === 404) return `There is no CalMS API at ${url} (HTTP 404). Check CALMS_API_URL.`;
  const excerpt = answer.text.trim().slice(0, 300);
  return `Unexpected answer from the CalMS API at ${url}: HTTP ${answer.status}${excerpt ? `: ${excerpt}` : ''}`;
}

class RequestSession {
  constructor(
    private readonly io: CliIo,
    private readonly target: ApiTarget,
    private readonly args: ResolvedRequest,
    private readonly out: (text: string) => void,
    private readonly err: (text: string) => void,
  ) {}

  async run(): Promise<ExitCode> {
    let mous: readonly string[] = [this.args.mous];
    let force = this.args.force;
    for (;;) {
      const answer = await this.send(mous, force);
      if (answer === undefined) return ExitCode.UNAVAILABLE;
      if (answer.kind !== 'results') return this.reportFailure(answer);

      const duplicates = force ? [] : answer.results.filter(isDuplicate);
      let exit: ExitCode = ExitCode.OK;
      for (const result of answer.results) {
        if (!isDuplicate(result) || force) exit = worse(exit, this.report(result));
      }
      if (duplicates.length === 0) return exit;

      for (const duplicate of duplicates) this.reportDuplicate(duplicate);
      if (!(await this.goOnDespiteDuplicate())) return worse(exit, ExitCode.DUPLICATE_ABORTED);
      this.err('Sending the request again with force: a second trigger will be created.');
      mous = duplicates.map((duplicate) => duplicate.mous);
      force = true;
    }
  }

  private async send(mous: readonly string[], force: boolean): Promise<ApiAnswer | undefined> {
    try {
      return await postRequest(this.io.fetch, this.target, requestBody(this.args, mous, force));
    } catch (error) {
      if (!(error instanceof ApiUnreachableError)) throw error;
      this.err(`${error.message}`);
      this.err(`${CHECK_THE_SERVICE} Nothing was triggered.`);
      return undefined;
    }
  }

  /** Prints one MOUS's outcome; returns the exit status it calls for. */
  private report(result: MousResult): ExitCode {
    if (result.outcome === 'accepted') {
      this.out(`Request accepted for MOUS ${result.mous} (project ${this.args.projectCode}, helpdesk ticket ${this.args.helpdeskTicket}).`);
      this.out(`  request id: ${result.requestId}`);
      this.out(`  trigger:    ${result.triggerName}`);
      this.out(`  execution:  ${result.executionArn}`);
      this.out(`CalMS now emails the request to AOG, CC ${this.args.arcContact}.`);
      return ExitCode.OK;
    }
    this.err(result.error.message);
    if (result.error.code === 'DUPLICATE_TRIGGER') return ExitCode.DUPLICATE_ABORTED;
    if (result.error.code === 'SERVICE_UNAVAILABLE') return ExitCode.UNAVAILABLE;
    this.err(`(${result.error.code}: nothing was triggered for MOUS ${result.mous} and AOG was not contacted.)`);
    return ExitCode.REFUSED;
  }

  private reportDuplicate(result: Extract<MousResult, { outcome: 'rejected' }>): void {
    const existing = result.error.existingTrigger;
    if (!existing) {
      this.err(result.error.message);
      return;
    }
    this.err(`A request for MOUS ${result.mous} is still active: trigger ${existing.name}, made ${existing.createdAt}.`);
    const request = existing.requestId ? `request id ${existing.requestId}; ` : '';
    this.err(`(${request}going on would create a second trigger and a second email to AOG.)`);
  }

  /** `--force` never gets here; `--abort-on-duplicate` and a non-terminal stdin abort; otherwise ask, defaulting to abort. */
  private async goOnDespiteDuplicate(): Promise<boolean> {
    if (this.args.abortOnDuplicate) {
      this.err('Aborted (--abort-on-duplicate): no second trigger was created.');
      return false;
    }
    if (this.io.stdin.isTTY !== true) {
      this.err('Aborted: stdin is not a terminal, so calms cannot ask; no second trigger was created. Use --force to go on anyway.');
      return false;
    }
    const abort = await askYesNo(this.io.stdin, this.io.stderr, DUPLICATE_QUESTION, 'yes');
    if (abort === 'yes') {
      this.err('Aborted: no second trigger was created.');
      return false;
    }
    return true;
  }

  private reportFailure(answer: ApiFailure): ExitCode {
    if (answer.kind === 'error' && answer.code === 'VALIDATION_ERROR') {
      const argument = answer.field ? argumentOf(answer.field) : undefined;
      const where = answer.field ? `${argument ? `${argument} (${answer.field})` : answer.field}: ` : '';
      this.err(`Invalid request: ${where}${answer.message}`);
      return ExitCode.USAGE;
    }
    this.err(failureMessage(answer, requestsUrl(this.target.apiUrl)));
    if (answer.kind !== 'error') return ExitCode.UNAVAILABLE;
    if (answer.code === 'CYCLE0') {
      this.err('(CYCLE0: nothing was triggered and AOG was not contacted.)');
      return ExitCode.REFUSED;
    }
    return answer.status >= 500 || answer.code === 'SERVICE_UNAVAILABLE' ? ExitCode.UNAVAILABLE : ExitCode.REFUSED;
  }
}

function isDuplicate(result: MousResult): result is Extract<MousResult, { outcome: 'rejected' }> {
  return result.outcome === 'rejected' && result.error.code === 'DUPLICATE_TRIGGER';
}

/** 4 (unavailable) > 3 (duplicate aborted) > 1 (refused) > 0. */
function worse(a: ExitCode, b: ExitCode): ExitCode {
  return Math.max(a, b) as ExitCode;
}
