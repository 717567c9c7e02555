/** Requests as the benchmarks send them, and their executions as they read them, through the bench cloud's API and AWS edge. */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { cliConfig, serviceConfig } from '../lib/config';
import type { BenchmarkContext } from './benchmark';

let ticket = 960_000;

/** Submits one MOUS with a ticket of its own, forced, as ARC staff would; its execution's ARN. */
export async function submit(context: BenchmarkContext, mous: string, calibratorFields: string[]): Promise<string> {
  const { apiUrl, apiKey } = cliConfig(context.env);
  ticket += 1;
  const response = await fetch(`${apiUrl}/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({
      projectCode: '2023.1.00456.S',
      userName: 'Stella Stranger',
      userEmail: 'stella.stranger@example.org',
      helpdeskTicket: String(ticket),
      arcContact: 'bench@example.org',
      mous: [mous],
      calibratorFields,
      force: true,
    }),
    signal: context.signal,
  });
  const body = (await response.json()) as { results?: { executionArn?: string }[] };
  const executionArn = body.results?.[0]?.executionArn;
  if (response.status !== 202 || !executionArn) throw new Error(`POST /requests answered ${response.status}: ${JSON.stringify(body)}`);
  return executionArn;
}

export function sfnOf(context: BenchmarkContext): SFNClient {
  const { env } = context;
  return new SFNClient({
    endpoint: serviceConfig(env).awsEndpoint,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
}

/** When the execution ended (epoch ms); it must have succeeded. */
export async function finished(context: BenchmarkContext, executionArn: string): Promise<number> {
  const sfn = sfnOf(context);
  for (;;) {
    context.signal.throwIfAborted();
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') {
      if (execution.status !== 'SUCCEEDED') throw new Error(`${executionArn} ended ${execution.status}: ${execution.cause}`);
      return execution.stopDate!.getTime();
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The execution's whole history, oldest first. */
export async function executionHistory(context: BenchmarkContext, executionArn: string): Promise<HistoryEvent[]> {
  const sfn = sfnOf(context);
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}
