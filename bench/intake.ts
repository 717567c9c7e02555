/**
 * Issue 3: latency of POST /requests with 10 concurrent clients on the local cloud; target p95 under 250 ms.
 *
 * The baseline is the same load on a request that API Gateway and the same Lambda answer, but that intake
 * refuses at validation (400, before the archive, S3 or Step Functions are asked): the floor of the local API
 * path. What intake itself costs (archive check, claim and trigger writes to S3, StartExecution) is the
 * difference between the two.
 */
import { cliConfig } from '../lib/config';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './benchmark';
import { type LatencySummary, summariseLatencies } from './stats';

const CLIENTS = 10;
/** Not measured: serverless-offline starts a Lambda worker whenever none is idle, which opens its clients on first use. */
const WARM_UP_REQUESTS = 20;
const MEASURED_REQUESTS = 300;
const P95_TARGET_MS = 250;
/** API Gateway answers 504 when its Lambda integration takes longer than this; the client waits no longer. */
const ANSWER_TIMEOUT_MS = 29_000;

/**
 * Accepted every time with a valid ticket: `force` passes over the trigger the previous request left, so each
 * request does the whole of intake. Stella Stranger is not entitled to this proprietary MOUS
 * (localstack/archive/README.md), so each execution it starts ends after three short Lambdas instead of going
 * on to calibrate on the cluster.
 */
const REQUEST_WITHOUT_TICKET = {
  projectCode: '2022.1.00999.S',
  userName: 'Stella Stranger',
  userEmail: 'stella.stranger@example.org',
  arcContact: 'bench@example.org',
  mous: ['uid___A001_X2f1e_X101'],
  force: true,
};
/**
 * A ticket of its own per request: an execution is named after ticket, MOUS, the second and 16 random bits,
 * which two of the requests of one second for the same ticket would share now and then.
 */
const acceptedRequest = (requestNumber: number) => ({ ...REQUEST_WITHOUT_TICKET, helpdeskTicket: String(900_000 + requestNumber) });
const invalidRequest = () => ({ ...REQUEST_WITHOUT_TICKET, helpdeskTicket: 'not-a-ticket-number' });

interface Answer {
  /** 0: no HTTP answer in time or the connection failed; the text then says which. */
  readonly status: number;
  readonly text: string;
}

interface Workload {
  readonly label: string;
  /** The body of the request with this number, counted from 0 across warm-up and measurement. */
  readonly request: (requestNumber: number) => unknown;
  readonly expectedStatus: number;
}

interface WorkloadResult {
  readonly summary: LatencySummary;
  /** Every answer, warm-up included. */
  readonly answers: readonly Answer[];
  readonly unexpected: readonly Answer[];
}

function sender(context: BenchmarkContext, workload: Workload): () => Promise<Answer> {
  const { apiUrl, apiKey } = cliConfig(context.env);
  let requestNumber = 0;
  return async () => {
    const body = JSON.stringify(workload.request(requestNumber++));
    try {
      const response = await fetch(`${apiUrl}/requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body,
        signal: AbortSignal.any([context.signal, AbortSignal.timeout(ANSWER_TIMEOUT_MS)]),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      if (context.signal.aborted) throw error;
      const { name, message, cause } = error as Error;
      if (name === 'TimeoutError') return { status: 0, text: `no answer within ${ANSWER_TIMEOUT_MS / 1000} s` };
      return { status: 0, text: `${message}${cause ? `: ${String(cause)}` : ''}` };
    }
  };
}

/**
 * Sends `count` requests from {@link CLIENTS} clients, each sending its next request as soon as its last one
 * is answered (global fetch keeps their connections alive). A latency includes reading the whole answer.
 */
async function runLoad(send: () => Promise<Answer>, count: number) {
  const answers: Answer[] = [];
  const latenciesMs: number[] = [];
  let unsent = count;
  const client = async () => {
    while (unsent > 0) {
      unsent -= 1;
      const sentAt = performance.now();
      answers.push(await send());
      latenciesMs.push(performance.now() - sentAt);
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { answers, latenciesMs, elapsedMs: performance.now() - startedAt };
}

async function measure(context: BenchmarkContext, workload: Workload): Promise<WorkloadResult> {
  const send = sender(context, workload);
  const warmUp = await runLoad(send, WARM_UP_REQUESTS);
  const measured = await runLoad(send, MEASURED_REQUESTS);
  const answers = [...warmUp.answers, ...measured.answers];
  return {
    summary: summariseLatencies(measured.latenciesMs, measured.elapsedMs),
    answers,
    unexpected: answers.filter((answer) => answer.status !== workload.expectedStatus),
  };
}

/** Executions started: one per accepted MOUS in a 202 answer. */
function executionsStarted(answers: readonly Answer[]): number {
  return answers
    .filter((answer) => answer.status === 202)
    .flatMap((answer) => (JSON.parse(answer.text) as { results: { outcome: string }[] }).results)
    .filter((result) => result.outcome === 'accepted').length;
}

/** One line per unexpected status, with the first answer of that status as an example. */
function describeUnexpected(label: string, unexpected: readonly Answer[]): string[] {
  const byStatus = new Map<number, Answer[]>();
  for (const answer of unexpected) byStatus.set(answer.status, [...(byStatus.get(answer.status) ?? []), answer]);
  return [...byStatus].map(
    ([status, answers]) => `${label}: ${answers.length} answered ${status === 0 ? 'nothing' : `HTTP ${status}`}, e.g. ${answers[0]!.text.slice(0, 200)}`,
  );
}

const ms = (value: number) => value.toFixed(1);

function figures(label: string, result: WorkloadResult): string[] {
  const { summary } = result;
  return [
    label,
    String(summary.count),
    String(result.unexpected.length),
    ms(summary.p50Ms),
    ms(summary.p95Ms),
    ms(summary.p99Ms),
    ms(summary.maxMs),
    summary.throughputPerSecond.toFixed(1),
  ];
}

export const intakeBenchmark: Benchmark = {
  name: 'intake',
  title: `POST /requests, ${CLIENTS} concurrent clients, ${MEASURED_REQUESTS} measured requests per workload`,
  async run(context): Promise<BenchmarkReport> {
    // The baseline goes first, so that the executions intake starts do not run in its background.
    const baselineWorkload: Workload = { label: 'baseline: 400 VALIDATION_ERROR', request: invalidRequest, expectedStatus: 400 };
    const intakeWorkload: Workload = { label: 'intake: 202 accepted', request: acceptedRequest, expectedStatus: 202 };
    const baseline = await measure(context, baselineWorkload);
    const intake = await measure(context, intakeWorkload);

    const difference = (pick: (summary: LatencySummary) => number) => ms(pick(intake.summary) - pick(baseline.summary));
    return {
      columns: ['workload', 'requests', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'req/s'],
      rows: [
        figures(baselineWorkload.label, baseline),
        figures(intakeWorkload.label, intake),
        ["intake's own cost (difference)", '', '', difference((s) => s.p50Ms), difference((s) => s.p95Ms), difference((s) => s.p99Ms), '', ''],
      ],
      notes: [
        `Each workload: ${WARM_UP_REQUESTS} warm-up requests, then ${MEASURED_REQUESTS} measured; each client sends its next request when its last is answered.`,
        'Baseline: the intake request with a malformed helpdesk ticket, refused by the same Lambda before anything is read or written.',
        'Intake: force: true and a ticket of its own, so every request checks the archive, claims the MOUS, writes its trigger to S3 and starts an execution.',
        `${executionsStarted(intake.answers)} executions started (warm-up included); each emails AOG, finds the user not entitled and ` +
          'replies NOT ENTITLED, in the background of the requests measured after it.',
        'Errors are answers other than the workload\'s status, warm-up included.',
        ...describeUnexpected(baselineWorkload.label, baseline.unexpected),
        ...describeUnexpected(intakeWorkload.label, intake.unexpected),
      ],
      targets: [
        { criterion: `p95 < ${P95_TARGET_MS} ms`, measured: `${ms(intake.summary.p95Ms)} ms`, met: intake.summary.p95Ms < P95_TARGET_MS },
        { criterion: 'every intake request answered 202', measured: `errors: ${intake.unexpected.length}`, met: intake.unexpected.length === 0 },
        { criterion: 'every baseline request answered 400', measured: `errors: ${baseline.unexpected.length}`, met: baseline.unexpected.length === 0 },
      ],
    };
  },
};
