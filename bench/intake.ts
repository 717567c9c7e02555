/**
 * Intake on the local cloud, measured so that the figures judge intake rather than the machine: the latency of
 * POST /requests sent by one client at a time (target p95 under 250 ms), and the rate ten concurrent clients
 * get accepted (target at least 20 requests/s). The ten clients' latencies are printed as information only:
 * every accepted request also starts an execution in the background, and with ten closed-loop clients the
 * local servers' work for those executions saturates two CPUs (README, Benchmarks), so their p95 measures the
 * machine's CPU per request, not intake.
 *
 * The baseline is the same load on a request that API Gateway and the same Lambda answer, but that intake
 * refuses at validation (400, before the archive, S3 or Step Functions are asked): the floor of the local API
 * path. What intake itself costs (archive check, claim and trigger writes to S3, StartExecution) is the
 * difference between the two.
 */
import { cliConfig } from '../lib/config';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './benchmark';
import { type LatencySummary, summariseLatencies } from './stats';

const CONCURRENT_CLIENTS = 10;
/** Not measured: serverless-offline starts a Lambda worker whenever none is idle, which opens its clients on first use. */
const WARM_UP_REQUESTS = 20;
const MEASURED_REQUESTS = 300;
const SINGLE_CLIENT_REQUESTS = 100;
const SINGLE_CLIENT_P95_TARGET_MS = 250;
const CONCURRENT_THROUGHPUT_TARGET_PER_SECOND = 20;
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
  /** Clients sending at once, each its next request as soon as its last one is answered. */
  readonly clients: number;
  readonly requests: number;
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
 * Sends `count` requests from `clients` clients, each sending its next request as soon as its last one is
 * answered (global fetch keeps their connections alive). A latency includes reading the whole answer.
 */
async function runLoad(send: () => Promise<Answer>, clients: number, count: number) {
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
  await Promise.all(Array.from({ length: clients }, client));
  return { answers, latenciesMs, elapsedMs: performance.now() - startedAt };
}

async function measure(context: BenchmarkContext, workload: Workload): Promise<WorkloadResult> {
  const send = sender(context, workload);
  const warmUp = await runLoad(send, workload.clients, WARM_UP_REQUESTS);
  const measured = await runLoad(send, workload.clients, workload.requests);
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
    ([status, answers]) =>
      `${label}: ${answers.length} answered ${status === 0 ? 'nothing' : `HTTP ${status}`}, e.g. ${answers[0]!.text.slice(0, 200)}`,
  );
}

const ms = (value: number) => value.toFixed(1);

function figures(workload: Workload, result: WorkloadResult): string[] {
  const { summary } = result;
  return [
    workload.label,
    String(workload.clients),
    String(summary.count),
    String(result.unexpected.length),
    ms(summary.p50Ms),
    ms(summary.p95Ms),
    ms(summary.p99Ms),
    ms(summary.maxMs),
    summary.throughputPerSecond.toFixed(1),
  ];
}

const accepted = (label: string, clients: number, requests: number): Workload => ({
  label,
  clients,
  requests,
  request: acceptedRequest,
  expectedStatus: 202,
});

export const intakeBenchmark: Benchmark = {
  name: 'intake',
  title: `POST /requests: one client at a time, then ${CONCURRENT_CLIENTS} concurrent clients`,
  async run(context): Promise<BenchmarkReport> {
    // The baseline goes first, so that the executions intake starts do not run in its background; the single
    // client goes before the concurrent clients for the same reason.
    const baselineWorkload: Workload = {
      label: 'baseline: 400 VALIDATION_ERROR',
      clients: CONCURRENT_CLIENTS,
      requests: MEASURED_REQUESTS,
      request: invalidRequest,
      expectedStatus: 400,
    };
    const singleWorkload = accepted('intake, one client: 202 accepted', 1, SINGLE_CLIENT_REQUESTS);
    const concurrentWorkload = accepted(`intake, ${CONCURRENT_CLIENTS} clients: 202 accepted`, CONCURRENT_CLIENTS, MEASURED_REQUESTS);
    const baseline = await measure(context, baselineWorkload);
    const single = await measure(context, singleWorkload);
    const concurrent = await measure(context, concurrentWorkload);

    const difference = (pick: (summary: LatencySummary) => number) => ms(pick(concurrent.summary) - pick(baseline.summary));
    const intakeErrors = single.unexpected.length + concurrent.unexpected.length;
    return {
      columns: ['workload', 'clients', 'requests', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'req/s'],
      rows: [
        figures(baselineWorkload, baseline),
        figures(singleWorkload, single),
        figures(concurrentWorkload, concurrent),
        [
          `intake's own cost at ${CONCURRENT_CLIENTS} clients (difference)`,
          '',
          '',
          '',
          difference((s) => s.p50Ms),
          difference((s) => s.p95Ms),
          difference((s) => s.p99Ms),
          '',
          '',
        ],
      ],
      notes: [
        `Each workload: ${WARM_UP_REQUESTS} warm-up requests, then the requests counted; each client sends its next request when its last is answered.`,
        'Baseline: the intake request with a malformed helpdesk ticket, refused by the same Lambda before anything is read or written.',
        'Intake: force: true and a ticket of its own, so every request checks the archive, claims the MOUS, writes its trigger to S3 and starts an execution.',
        `${executionsStarted([...single.answers, ...concurrent.answers])} executions started (warm-up included); each emails AOG, finds the user not entitled and ` +
          'replies NOT ENTITLED, in the background of the requests measured after it.',
        `The ${CONCURRENT_CLIENTS} clients' latencies are information, not a target: those executions' work saturates two CPUs (README, Benchmarks).`,
        "Errors are answers other than the workload's status, warm-up included.",
        ...describeUnexpected(baselineWorkload.label, baseline.unexpected),
        ...describeUnexpected(singleWorkload.label, single.unexpected),
        ...describeUnexpected(concurrentWorkload.label, concurrent.unexpected),
      ],
      targets: [
        {
          criterion: `one client: p95 < ${SINGLE_CLIENT_P95_TARGET_MS} ms`,
          measured: `${ms(single.summary.p95Ms)} ms`,
          met: single.summary.p95Ms < SINGLE_CLIENT_P95_TARGET_MS,
        },
        {
          criterion: `${CONCURRENT_CLIENTS} clients: at least ${CONCURRENT_THROUGHPUT_TARGET_PER_SECOND} accepted requests/s`,
          measured: `${concurrent.summary.throughputPerSecond.toFixed(1)} requests/s`,
          met: concurrent.summary.throughputPerSecond >= CONCURRENT_THROUGHPUT_TARGET_PER_SECOND,
        },
        { criterion: 'every intake request answered 202', measured: `errors: ${intakeErrors}`, met: intakeErrors === 0 },
        {
          criterion: 'every baseline request answered 400',
          measured: `errors: ${baseline.unexpected.length}`,
          met: baseline.unexpected.length === 0,
        },
      ],
    };
  },
};
