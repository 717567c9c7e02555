/** Clients for the running local cloud, configured from the environment globalSetup exported. */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { createS3Client } from '../../../lib/aws/clients';
import { cliConfig, serviceConfig } from '../../../lib/config';
import { localCloudConfig } from '../../../localstack/config';
import { createLogger } from '../../../lib/log';
import { StagingQueue } from '../../../lib/slots/StagingQueue';
import { S3SlotStore } from '../../../lib/storage/S3SlotStore';
import { SfnWorkflow } from '../../../lib/workflow/SfnWorkflow';

export const service = () => serviceConfig();
export const api = () => cliConfig();

/** The test cloud's SQLite archive file, for the tests that change the archive under a running request. */
export function sqliteArchivePath(): string {
  const { location } = serviceConfig().archive;
  if (location.dialect !== 'sqlite') throw new Error(`the test cloud's archive is not a SQLite file but ${location.display}`);
  return location.path;
}

export function s3(): S3Client {
  return createS3Client(serviceConfig());
}

export function sfn(): SFNClient {
  return new SFNClient({ endpoint: serviceConfig().awsEndpoint });
}

/** The staging queue as the Lambdas see it, read through the same code. */
export function stagingQueue(): StagingQueue {
  const settings = serviceConfig();
  const store = new S3SlotStore(s3(), settings.dataBucket);
  return new StagingQueue(
    store,
    settings.slots,
    () => new Date(),
    createLogger({}, () => undefined),
    new SfnWorkflow(sfn(), settings.stateMachineArn),
  );
}

export async function postRequest(body: unknown): Promise<{ status: number; body: any }> {
  const { apiUrl, apiKey } = api();
  const response = await fetch(`${apiUrl}/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: response.status, body: parsed };
}

export interface CaughtMail {
  id: string;
  subject: string;
  text: string;
  headers: Record<string, string>;
  to: { address: string }[];
  cc?: { address: string }[];
  bcc?: { address: string }[];
  calculatedBcc?: { address: string }[];
  replyTo?: { address: string }[];
  envelope: { to: { address: string }[] };
}

export async function mailbox(): Promise<CaughtMail[]> {
  const response = await fetch(`http://127.0.0.1:${localCloudConfig().ports.mailWeb}/api/email`);
  return (await response.json()) as CaughtMail[];
}

/** The message as the relay received it, headers included (MailDev's JSON leaves some out, such as Reply-To). */
export async function rawMail(mail: CaughtMail): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${localCloudConfig().ports.mailWeb}/api/email/${mail.id}/source`);
  return response.text();
}

/** Mails about one MOUS request, found by the request id in their Message-ID. */
export async function mailsOf(requestId: string): Promise<CaughtMail[]> {
  return (await mailbox()).filter((mail) => (mail.headers['message-id'] ?? '').includes(requestId));
}

/** Every event of an execution's history, all pages. */
export async function executionHistory(executionArn: string, client: SFNClient = sfn()): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new GetExecutionHistoryCommand({ executionArn, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Whether the trigger file is still in the data bucket. */
export async function triggerExists(triggerName: string): Promise<boolean> {
  try {
    await s3().send(new HeadObjectCommand({ Bucket: serviceConfig().dataBucket, Key: `triggers/${triggerName}` }));
    return true;
  } catch {
    return false;
  }
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** Polls until the execution reaches any end state (not only success), then returns it with its history. */
export async function waitForExecution(
  executionArn: string,
  timeoutMs = 90_000,
): Promise<{ status: string; output?: string; error?: string; cause?: string; events: HistoryEvent[] }> {
  const client = sfn();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const execution = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (TERMINAL.has(execution.status!)) {
      const events = await executionHistory(executionArn, client);
      return { status: execution.status!, output: execution.output, error: execution.error, cause: execution.cause, events };
    }
    if (Date.now() > deadline) throw new Error(`${executionArn} still ${execution.status} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Names of the states entered, in order: the path an operator sees in the console. */
export function statesEntered(events: readonly HistoryEvent[]): string[] {
  return events.filter((event) => event.type?.endsWith('StateEntered')).map((event) => event.stateEnteredEventDetails!.name!);
}
