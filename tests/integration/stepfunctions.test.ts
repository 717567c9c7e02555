/**
 * The embedded Step Functions server, driven the way CalMS and operators drive it: through
 * `@aws-sdk/client-sfn` (and once through the AWS CLI). Lambda functions are fakes in this process.
 * Each describe block starts its own server on a free port and its own state directory.
 */

import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  UpdateStateMachineCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ArchiveUnavailableError } from '../../lib/errors';
import { createLogger } from '../../lib/log';
import { serverlessOfflineInvoker } from '../../localstack/stepfunctions/lambdaInvoker';
import { startStepFunctionsServer, type LambdaInvoker, type StepFunctionsServer } from '../../localstack/stepfunctions/server';
import { FileStore } from '../../localstack/stepfunctions/store';
import { describeWithAwsCli } from './support/awsCli';
import { eventually } from './support/eventually';

const REGION = 'us-east-1';
const ACCOUNT_ID = '000000000000';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/calms-local-stepfunctions`;
const silentLogger = createLogger({}, () => undefined);

function lambdaArn(functionName: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${functionName}`;
}

/** Lambda functions as plain async functions, remembering every call. */
class FakeLambdas {
  readonly calls: { functionName: string; payload: unknown }[] = [];

  constructor(private readonly functions: Record<string, (payload: unknown) => Promise<unknown>>) {}

  readonly invoke: LambdaInvoker = async (functionName, payload) => {
    this.calls.push({ functionName, payload });
    const handler = this.functions[functionName];
    if (!handler) throw Object.assign(new Error(`Function not found: ${functionName}`), { name: 'Lambda.ResourceNotFoundException' });
    return handler(payload);
  };

  callsOf(functionName: string): unknown[] {
    return this.calls.filter((call) => call.functionName === functionName).map((call) => call.payload);
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

function waitForEnd(client: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  return eventually(
    async () => {
      const described = await client.send(new DescribeExecutionCommand({ executionArn }));
      return described.status === 'RUNNING' ? undefined : described;
    },
    `execution ${executionArn} to end`,
    30_000,
    50,
  );
}

async function historyOf(client: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return events ?? [];
}

function sfnClient(server: StepFunctionsServer): SFNClient {
  return new SFNClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

async function startServer(stateDir: string, invokeLambda: LambdaInvoker): Promise<StepFunctionsServer> {
  return startStepFunctionsServer({ port: 0, stateDir, region: REGION, accountId: ACCOUNT_ID, invokeLambda, logger: silentLogger });
}

async function createStateMachine(client: SFNClient, name: string, definition: object): Promise<string> {
  const created = await client.send(new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE_ARN }));
  return created.stateMachineArn as string;
}

/** Task -> Choice -> Succeed | Fail, the skeleton of the CalMS workflow. */
const CHECK_MOUS = {
  Comment: 'Looks the MOUS up and delivers it only when the archive says it can',
  StartAt: 'FindMous',
  States: {
    FindMous: {
      Type: 'Task',
      Resource: lambdaArn('findMous'),
      Parameters: { 'uid.$': '$.uid', 'executionName.$': '$$.Execution.Name' },
      ResultPath: '$.mous',
      Next: 'IsDeliverable',
    },
    IsDeliverable: {
      Type: 'Choice',
      Choices: [{ Variable: '$.mous.deliverable', BooleanEquals: true, Next: 'Deliverable' }],
      Default: 'NotDeliverable',
    },
    Deliverable: { Type: 'Succeed' },
    NotDeliverable: { Type: 'Fail', Error: 'MousNotDeliverable', Cause: 'The archive says the MOUS cannot be delivered' },
  },
};

/** Retries the archive while it is down, then hands over to the maintainer. */
const RETRY_THEN_CATCH = {
  StartAt: 'FindMous',
  States: {
    FindMous: {
      Type: 'Task',
      Resource: lambdaArn('unavailableArchive'),
      Retry: [{ ErrorEquals: ['ArchiveUnavailableError'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }],
      Catch: [
        { ErrorEquals: ['ArchiveUnavailableError'], ResultPath: '$.failure', Next: 'TellMaintainer' },
        { ErrorEquals: ['States.ALL'], Next: 'Unexpected' },
      ],
      End: true,
    },
    TellMaintainer: { Type: 'Task', Resource: lambdaArn('tellMaintainer'), End: true },
    Unexpected: { Type: 'Fail', Error: 'Unexpected' },
  },
};

const SLOW = { StartAt: 'SubmitClusterJob', States: { SubmitClusterJob: { Type: 'Task', Resource: lambdaArn('slow'), End: true } } };

/** A Parallel state whose first branch maps a Task over the execution blocks. */
const EACH_EXEC_BLOCK = {
  StartAt: 'LookUpAll',
  States: {
    LookUpAll: {
      Type: 'Parallel',
      Branches: [
        {
          StartAt: 'EachExecBlock',
          States: {
            EachExecBlock: {
              Type: 'Map',
              ItemsPath: '$.execBlocks',
              ItemSelector: { 'uid.$': '$$.Map.Item.Value', 'executionName.$': '$$.Execution.Name' },
              ItemProcessor: {
                StartAt: 'FindExecBlock',
                States: { FindExecBlock: { Type: 'Task', Resource: lambdaArn('findMous'), End: true } },
              },
              End: true,
            },
          },
        },
        {
          StartAt: 'FindMousToo',
          States: {
            FindMousToo: {
              Type: 'Task',
              Resource: lambdaArn('findMous'),
              Parameters: { 'uid.$': '$.uid', 'executionName.$': '$$.Execution.Name' },
              End: true,
            },
          },
        },
      ],
      End: true,
    },
  },
};

const SUCCEED_OR_FAIL = {
  StartAt: 'ShouldFail',
  States: {
    ShouldFail: { Type: 'Choice', Choices: [{ Variable: '$.fail', BooleanEquals: true, Next: 'Failed' }], Default: 'Done' },
    Failed: { Type: 'Fail', Error: 'AskedToFail' },
    Done: { Type: 'Succeed' },
  },
};

describe('local Step Functions server through @aws-sdk/client-sfn', () => {
  let stateDir: string;
  let server: StepFunctionsServer;
  let client: SFNClient;
  /** Answers of the `slow` function's calls, in call order; the test decides when each comes. */
  const slowAnswers: { resolve: (value: unknown) => void }[] = [];
  const lambdas = new FakeLambdas({
    findMous: async (payload) => {
      const { uid, executionName } = payload as { uid: string; executionName: string };
      return { uid, deliverable: uid !== 'uid___A001_X0_Xbad', seenExecutionName: executionName };
    },
    unavailableArchive: async () => {
      throw new ArchiveUnavailableError('archive database refused the connection');
    },
    tellMaintainer: async (payload) => ({ told: true, about: payload }),
    slow: () => {
      const answer = deferred<unknown>();
      slowAnswers.push(answer);
      return answer.promise;
    },
  });

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'calms-sfn-'));
    server = await startServer(stateDir, lambdas.invoke);
    client = sfnClient(server);
  });

  afterAll(async () => {
    for (const answer of slowAnswers) answer.resolve({ late: true });
    client.destroy();
    await server.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  test('runs Task -> Choice -> Succeed to SUCCEEDED with the output and the AWS history events in order', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine(client, 'check-mous', CHECK_MOUS);

    // Act
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: 'ticket-42', input: JSON.stringify({ uid: 'uid___A001_X1296_X675' }) }),
    );
    const described = await waitForEnd(client, executionArn as string);
    const history = await historyOf(client, executionArn as string);

    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string)).toEqual({
      uid: 'uid___A001_X1296_X675',
      mous: { uid: 'uid___A001_X1296_X675', deliverable: true, seenExecutionName: 'ticket-42' },
    });
    expect(described.startDate).toBeInstanceOf(Date);
    expect(described.stopDate).toBeInstanceOf(Date);
    expect(history.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history.map((event) => event.id)).toEqual(history.map((_, index) => index + 1));
    expect(history[0].executionStartedEventDetails).toMatchObject({ roleArn: ROLE_ARN });
    expect(history[2].lambdaFunctionScheduledEventDetails).toMatchObject({
      resource: lambdaArn('findMous'),
      input: JSON.stringify({ uid: 'uid___A001_X1296_X675', executionName: 'ticket-42' }),
    });
    expect(history[1].stateEnteredEventDetails?.name).toBe('FindMous');
  });

  test('ends on a Fail state as FAILED with its error and cause', async () => {
    // Prepare
    const { stateMachines } = await client.send(new ListStateMachinesCommand({}));
    const stateMachineArn = stateMachines?.find((machine) => machine.name === 'check-mous')?.stateMachineArn;

    // Act
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: 'ticket-43', input: JSON.stringify({ uid: 'uid___A001_X0_Xbad' }) }),
    );
    const described = await waitForEnd(client, executionArn as string);
    const history = await historyOf(client, executionArn as string);

    // Assess
    expect(described).toMatchObject({ status: 'FAILED', error: 'MousNotDeliverable', cause: 'The archive says the MOUS cannot be delivered' });
    expect(history.slice(-2).map((event) => event.type)).toEqual(['FailStateEntered', 'ExecutionFailed']);
    expect(history[history.length - 1].executionFailedEventDetails).toEqual({
      error: 'MousNotDeliverable',
      cause: 'The archive says the MOUS cannot be delivered',
    });
  });

  test('retries a custom error name, then takes the Catch path for it', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine(client, 'retry-then-catch', RETRY_THEN_CATCH);

    // Act
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ ticket: 7 }) }));
    const described = await waitForEnd(client, executionArn as string);
    const history = await historyOf(client, executionArn as string);

    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(lambdas.callsOf('unavailableArchive')).toHaveLength(3);
    const [maintainerInput] = lambdas.callsOf('tellMaintainer') as { ticket: number; failure: { Error: string; Cause: string } }[];
    expect(maintainerInput).toMatchObject({ ticket: 7, failure: { Error: 'ArchiveUnavailableError' } });
    expect(JSON.parse(maintainerInput.failure.Cause)).toMatchObject({
      errorType: 'ArchiveUnavailableError',
      errorMessage: 'archive database refused the connection',
      trace: expect.arrayContaining([expect.stringContaining('ArchiveUnavailableError: archive database refused the connection')]),
    });
    const failures = history.filter((event) => event.type === 'LambdaFunctionFailed');
    expect(failures.map((event) => event.lambdaFunctionFailedEventDetails?.error)).toEqual([
      'ArchiveUnavailableError',
      'ArchiveUnavailableError',
      'ArchiveUnavailableError',
    ]);
    const entered = history.filter((event) => event.stateEnteredEventDetails).map((event) => event.stateEnteredEventDetails?.name);
    expect(entered).toEqual(['FindMous', 'TellMaintainer']);
  });

  test('StopExecution aborts a running execution, and the Lambda answering later changes nothing', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine(client, 'slow', SLOW);
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'long-job' }));
    await eventually(() => lambdas.callsOf('slow').length === 1 || undefined, 'the slow Lambda to be called', 30_000, 50);

    // Act
    await client.send(new StopExecutionCommand({ executionArn, error: 'Operator.Cancelled', cause: 'The AoG withdrew the request' }));
    slowAnswers[0].resolve({ late: true });
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    const history = await historyOf(client, executionArn as string);

    // Assess
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator.Cancelled', cause: 'The AoG withdrew the request' });
    expect(described.output).toBeUndefined();
    expect(history[history.length - 1]).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Operator.Cancelled', cause: 'The AoG withdrew the request' },
    });
    expect(history.map((event) => event.type)).not.toContain('LambdaFunctionSucceeded');
  });

  test('calls the Lambda of Task states nested in Map and Parallel states', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine(client, 'nested', EACH_EXEC_BLOCK);
    const input = { uid: 'uid___A001_X1296_X675', execBlocks: ['uid___A002_X1_X1', 'uid___A002_X2_X2'] };

    // Act
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
    const described = await waitForEnd(client, executionArn as string);
    const types = (await historyOf(client, executionArn as string)).map((event) => event.type);

    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string)).toEqual([
      [
        { uid: 'uid___A002_X1_X1', deliverable: true, seenExecutionName: expect.any(String) },
        { uid: 'uid___A002_X2_X2', deliverable: true, seenExecutionName: expect.any(String) },
      ],
      { uid: 'uid___A001_X1296_X675', deliverable: true, seenExecutionName: expect.any(String) },
    ]);
    expect(types.filter((type) => type === 'MapIterationStarted')).toHaveLength(2);
    expect(types.filter((type) => type === 'LambdaFunctionSucceeded')).toHaveLength(3);
    expect(types.indexOf('ParallelStateEntered')).toBeLessThan(types.indexOf('MapStateEntered'));
    expect(types.indexOf('MapStateExited')).toBeLessThan(types.indexOf('ParallelStateExited'));
  });

  test('an execution running past the TimeoutSeconds of its state machine ends TIMED_OUT', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine(client, 'times-out', { ...SLOW, TimeoutSeconds: 1 });

    // Act
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const described = await waitForEnd(client, executionArn as string);
    const history = await historyOf(client, executionArn as string);

    // Assess
    expect(described).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(history[history.length - 1].type).toBe('ExecutionTimedOut');
  });

  test('ListExecutions pages newest first with nextToken and filters by status', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine(client, 'paged', SUCCEED_OR_FAIL);
    const names = ['page-1', 'page-2', 'page-3', 'page-4', 'page-5'];
    for (const [index, name] of names.entries()) {
      const { executionArn } = await client.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify({ fail: index % 2 === 1 }) }),
      );
      await waitForEnd(client, executionArn as string);
    }

    // Act
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 2, nextToken }));
      pages.push((page.executions ?? []).map((execution) => execution.name as string));
      nextToken = page.nextToken;
    } while (nextToken);
    const failed = await client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'FAILED' }));

    // Assess
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual([...names].reverse());
    expect(failed.executions?.map((execution) => execution.name)).toEqual(['page-4', 'page-2']);
    expect(failed.nextToken).toBeUndefined();
  });

  test('GetExecutionHistory pages in reverse order', async () => {
    // Prepare
    const { executions } = await client.send(
      new ListExecutionsCommand({ stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:check-mous`, statusFilter: 'SUCCEEDED' }),
    );
    const executionArn = executions?.[0].executionArn;

    // Act
    const first = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 3 }));
    const second = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 3, nextToken: first.nextToken }));

    // Assess
    expect(first.events?.map((event) => event.id)).toEqual([11, 10, 9]);
    expect(second.events?.map((event) => event.id)).toEqual([8, 7, 6]);
    expect(first.events?.[0].type).toBe('ExecutionSucceeded');
  });

  test('StartExecution with a used name returns the running execution for the same input, refuses another input', async () => {
    // Prepare
    const stateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:slow`;
    const first = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'same-name', input: '{"n":1}' }));

    // Act
    const again = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'same-name', input: '{"n":1}' }));
    const otherInput = client.send(new StartExecutionCommand({ stateMachineArn, name: 'same-name', input: '{"n":2}' }));

    // Assess
    expect(again.executionArn).toBe(first.executionArn);
    await expect(otherInput).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    await client.send(new StopExecutionCommand({ executionArn: first.executionArn }));
  });

  test('answers AWS error codes for unknown resources and unsupported definitions', async () => {
    // Prepare
    const missingExecution = `arn:aws:states:${REGION}:${ACCOUNT_ID}:execution:check-mous:never-started`;
    const lambdaInvokeIntegration = {
      StartAt: 'FindMous',
      States: { FindMous: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'findMous' }, End: true } },
    };

    // Act
    const describeMissing = client.send(new DescribeExecutionCommand({ executionArn: missingExecution }));
    const describeBadArn = client.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' }));
    const createUnsupported = createStateMachine(client, 'lambda-invoke', lambdaInvokeIntegration);
    const createBadName = createStateMachine(client, 'has spaces', SUCCEED_OR_FAIL);
    const redefine = createStateMachine(client, 'check-mous', SUCCEED_OR_FAIL);

    // Assess
    await expect(describeMissing).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await expect(describeBadArn).rejects.toMatchObject({ name: 'InvalidArn' });
    await expect(createUnsupported).rejects.toMatchObject({ name: 'InvalidDefinition', message: expect.stringContaining('FindMous') });
    await expect(createBadName).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(redefine).rejects.toMatchObject({ name: 'StateMachineAlreadyExists' });
  });

  test('CreateStateMachine is idempotent; UpdateStateMachine changes what new executions run', async () => {
    // Prepare
    const first = await createStateMachine(client, 'updatable', SUCCEED_OR_FAIL);
    const again = await createStateMachine(client, 'updatable', SUCCEED_OR_FAIL);
    const alwaysPass = { StartAt: 'Stamp', States: { Stamp: { Type: 'Pass', Result: { updated: true }, End: true } } };

    // Act
    await client.send(new UpdateStateMachineCommand({ stateMachineArn: first, definition: JSON.stringify(alwaysPass) }));
    const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn: first }));
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: first, input: '{"fail":true}' }));
    const ended = await waitForEnd(client, executionArn as string);
    const forExecution = await client.send(new DescribeStateMachineForExecutionCommand({ executionArn }));

    // Assess
    expect(again).toBe(first);
    expect(JSON.parse(described.definition as string)).toEqual(alwaysPass);
    expect(ended).toMatchObject({ status: 'SUCCEEDED', output: '{"updated":true}' });
    expect(forExecution).toMatchObject({ stateMachineArn: first, name: 'updatable' });
  });

  describeWithAwsCli('the AWS CLI', () => {
    test('lists the state machines', async () => {
      // Prepare
      const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: REGION, AWS_PAGER: '' };

      // Act
      const { stdout } = await promisify(execFile)('aws', ['--endpoint-url', server.url, 'stepfunctions', 'list-state-machines'], { env });

      // Assess
      const names = (JSON.parse(stdout) as { stateMachines: { name: string }[] }).stateMachines.map((machine) => machine.name);
      expect(names).toEqual(expect.arrayContaining(['check-mous', 'retry-then-catch', 'slow', 'nested', 'paged']));
    });
  });
});

describe('local Step Functions server across restarts', () => {
  let stateDir: string;
  const lambdas = new FakeLambdas({ findMous: async (payload) => ({ ...(payload as object), deliverable: true }) });

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'calms-sfn-restart-'));
  });

  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  test('a new server on the same state directory lists and describes the earlier executions', async () => {
    // Prepare
    const before = await startServer(stateDir, lambdas.invoke);
    const beforeClient = sfnClient(before);
    const stateMachineArn = await createStateMachine(beforeClient, 'check-mous', CHECK_MOUS);
    const { executionArn } = await beforeClient.send(
      new StartExecutionCommand({ stateMachineArn, name: 'before-restart', input: JSON.stringify({ uid: 'uid___A001_X1_X1' }) }),
    );
    const finished = await waitForEnd(beforeClient, executionArn as string);
    const historyBefore = await historyOf(beforeClient, executionArn as string);
    beforeClient.destroy();
    await before.close();

    // Act
    const after = await startServer(stateDir, lambdas.invoke);
    const afterClient = sfnClient(after);
    try {
      const { stateMachines } = await afterClient.send(new ListStateMachinesCommand({}));
      const { executions } = await afterClient.send(new ListExecutionsCommand({ stateMachineArn }));
      const described = await afterClient.send(new DescribeExecutionCommand({ executionArn }));
      const historyAfter = await historyOf(afterClient, executionArn as string);

      // Assess
      expect(stateMachines?.map((machine) => machine.name)).toEqual(['check-mous']);
      expect(executions?.map((execution) => [execution.name, execution.status])).toEqual([['before-restart', 'SUCCEEDED']]);
      expect(described).toMatchObject({ status: 'SUCCEEDED', input: finished.input, output: finished.output, startDate: finished.startDate });
      expect(historyAfter).toEqual(historyBefore);
    } finally {
      afterClient.destroy();
      await after.close();
    }
  });

  test('an execution running when the server stopped goes on in the next one: same ARN, its Task called again, the history continued', async () => {
    // Prepare: the first server stops while the Lambda of FindMous runs; the answer never reaches it.
    const lostAnswer = deferred<unknown>();
    const stuck = new FakeLambdas({ findMous: () => lostAnswer.promise });
    const calls = lambdas.callsOf('findMous').length;
    const before = await startServer(stateDir, stuck.invoke);
    const beforeClient = sfnClient(before);
    const stateMachineArn = await createStateMachine(beforeClient, 'check-mous-resumed', CHECK_MOUS);
    const { executionArn } = await beforeClient.send(
      new StartExecutionCommand({ stateMachineArn, name: 'stopped-in-task', input: JSON.stringify({ uid: 'uid___A001_X1_X2' }) }),
    );
    await eventually(() => stuck.callsOf('findMous').length === 1 || undefined, 'FindMous to be called', 30_000, 50);
    beforeClient.destroy();
    await before.close();
    lostAnswer.resolve({ uid: 'uid___A001_X1_X2', deliverable: false });

    // Act
    const after = await startServer(stateDir, lambdas.invoke);
    const afterClient = sfnClient(after);
    try {
      const whileDown = await afterClient.send(new DescribeExecutionCommand({ executionArn }));
      const resumed = after.resumeInterrupted();
      const described = await waitForEnd(afterClient, executionArn as string);
      const history = await historyOf(afterClient, executionArn as string);

      // Assess
      expect(whileDown.status).toBe('RUNNING');
      expect(resumed).toBe(1);
      expect(described).toMatchObject({ executionArn, status: 'SUCCEEDED' });
      expect(lambdas.callsOf('findMous').slice(calls)).toEqual([{ uid: 'uid___A001_X1_X2', executionName: 'stopped-in-task' }]);
      expect(history.map((event) => event.type)).toEqual([
        'ExecutionStarted',
        'TaskStateEntered',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionFailed',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionSucceeded',
        'TaskStateExited',
        'ChoiceStateEntered',
        'ChoiceStateExited',
        'SucceedStateEntered',
        'SucceedStateExited',
        'ExecutionSucceeded',
      ]);
      expect(history[4].lambdaFunctionFailedEventDetails).toMatchObject({
        error: 'Lambda.ServiceException',
        cause: expect.stringMatching(/local cloud stopped/),
      });
      expect(history.map((event) => event.id)).toEqual(history.map((_, index) => index + 1));
      expect(JSON.parse(described.output as string)).toMatchObject({ uid: 'uid___A001_X1_X2', mous: { deliverable: true } });
    } finally {
      afterClient.destroy();
      await after.close();
    }
  });

  test('a Wait in flight keeps its deadline across a restart', async () => {
    // Prepare: a 4 s wait; the server stops 1 s into it and the next one starts 2 s later.
    const waitThenFind = {
      StartAt: 'WaitForSlot',
      States: {
        WaitForSlot: { Type: 'Wait', SecondsPath: '$.waitSeconds', Next: 'FindMous' },
        FindMous: { Type: 'Task', Resource: lambdaArn('findMous'), Parameters: { 'uid.$': '$.uid' }, End: true },
      },
    };
    const calledAt: number[] = [];
    const timed = new FakeLambdas({
      findMous: async (payload) => {
        calledAt.push(Date.now());
        return payload;
      },
    });
    const before = await startServer(stateDir, timed.invoke);
    const beforeClient = sfnClient(before);
    const stateMachineArn = await createStateMachine(beforeClient, 'wait-then-find', waitThenFind);
    const { executionArn } = await beforeClient.send(
      new StartExecutionCommand({ stateMachineArn, name: 'stopped-in-wait', input: JSON.stringify({ uid: 'uid___A001_X1_X3', waitSeconds: 4 }) }),
    );
    const entered = await eventually(
      async () => (await historyOf(beforeClient, executionArn as string)).find((event) => event.type === 'WaitStateEntered'),
      'the Wait to be entered',
      30_000,
      50,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    beforeClient.destroy();
    await before.close();
    await new Promise((resolve) => setTimeout(resolve, 2000));

    // Act
    const after = await startServer(stateDir, timed.invoke);
    const afterClient = sfnClient(after);
    try {
      const resumedAt = Date.now();
      after.resumeInterrupted();
      const described = await waitForEnd(afterClient, executionArn as string);
      const history = await historyOf(afterClient, executionArn as string);

      // Assess: FindMous ran once, not before the deadline, and well before a wait started afresh would end.
      const deadline = (entered.timestamp as Date).getTime() + 4000;
      expect(described.status).toBe('SUCCEEDED');
      expect(calledAt).toHaveLength(1);
      expect(calledAt[0]).toBeGreaterThanOrEqual(deadline - 50);
      expect(calledAt[0]).toBeLessThan(resumedAt + 4000);
      expect(history.map((event) => event.type)).toEqual([
        'ExecutionStarted',
        'WaitStateEntered',
        'WaitStateExited',
        'TaskStateEntered',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionSucceeded',
        'TaskStateExited',
        'ExecutionSucceeded',
      ]);
      expect(history[2].stateExitedEventDetails?.name).toBe('WaitForSlot');
    } finally {
      afterClient.destroy();
      await after.close();
    }
  });

  test('an execution a killed server left RUNNING resumes from the state its history shows in flight; a stop before it resumes aborts it', async () => {
    // Prepare: what a server killed during FindMous leaves, for two executions.
    const stateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:check-mous`;
    const store = new FileStore(join(stateDir, 'stepfunctions'));
    const input = JSON.stringify({ uid: 'uid___A001_X1_X4' });
    for (const name of ['killed', 'killed-then-stopped']) {
      const executionArn = `arn:aws:states:${REGION}:${ACCOUNT_ID}:execution:check-mous:${name}`;
      await store.saveExecution('check-mous', { executionArn, stateMachineArn, name, status: 'RUNNING', input, startDate: 1_700_000_000 });
      await store.saveHistory('check-mous', name, [
        { id: 1, previousEventId: 0, type: 'ExecutionStarted', timestamp: 1_700_000_000, executionStartedEventDetails: { input, roleArn: ROLE_ARN } },
        { id: 2, previousEventId: 1, type: 'TaskStateEntered', timestamp: 1_700_000_000.1, stateEnteredEventDetails: { name: 'FindMous', input } },
        {
          id: 3,
          previousEventId: 2,
          type: 'LambdaFunctionScheduled',
          timestamp: 1_700_000_000.2,
          lambdaFunctionScheduledEventDetails: { resource: lambdaArn('findMous'), input },
        },
      ]);
    }
    const killedArn = `arn:aws:states:${REGION}:${ACCOUNT_ID}:execution:check-mous:killed`;
    const stoppedArn = `arn:aws:states:${REGION}:${ACCOUNT_ID}:execution:check-mous:killed-then-stopped`;
    const calls = lambdas.callsOf('findMous').length;

    // Act
    const server = await startServer(stateDir, lambdas.invoke);
    const client = sfnClient(server);
    try {
      await client.send(new StopExecutionCommand({ executionArn: stoppedArn, error: 'Operator.Cancelled' }));
      server.resumeInterrupted();
      const killed = await waitForEnd(client, killedArn);
      const stopped = await client.send(new DescribeExecutionCommand({ executionArn: stoppedArn }));
      const history = await historyOf(client, killedArn);

      // Assess
      expect(killed.status).toBe('SUCCEEDED');
      expect(stopped).toMatchObject({ status: 'ABORTED', error: 'Operator.Cancelled' });
      expect(lambdas.callsOf('findMous').slice(calls)).toEqual([{ uid: 'uid___A001_X1_X4', executionName: 'killed' }]);
      expect(history.slice(2, 6).map((event) => event.type)).toEqual([
        'LambdaFunctionScheduled',
        'LambdaFunctionFailed',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
      ]);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});

describe('serverlessOfflineInvoker against a stand-in answering as serverless-offline does', () => {
  let standIn: Server;
  let endpoint: string;

  beforeAll(async () => {
    // Status codes, headers and bodies as node_modules/serverless-offline/src/lambda/routes/invocations answers them.
    standIn = createServer((request, response) => {
      const functionName = decodeURIComponent(request.url?.split('/')[3] ?? '');
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        if (functionName === 'crashes') {
          // The runtime dies under the invocation: the connection goes without an answer.
          request.socket.destroy();
        } else if (functionName === 'echo') {
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echoed: JSON.parse(body) }));
        } else if (functionName === 'archiveDown') {
          const error = new ArchiveUnavailableError('archive database refused the connection');
          const payload = { errorMessage: error.message, errorType: 'Error', trace: error.stack?.split('\n') };
          response.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' }).end(JSON.stringify(payload));
        } else {
          response
            .writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' })
            .end(JSON.stringify({ Message: `Function not found: ${functionName}`, Type: 'User' }));
        }
      });
    });
    await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    standIn.closeAllConnections();
    await new Promise((resolve) => standIn.close(resolve));
  });

  test('returns what the function returned', async () => {
    // Act
    const result = await serverlessOfflineInvoker(endpoint)('echo', { uid: 'uid___A001_X1_X1' });

    // Assess
    expect(result).toEqual({ echoed: { uid: 'uid___A001_X1_X1' } });
  });

  test('throws the thrown error with its CalMS name recovered from the trace', async () => {
    // Act
    const invocation = serverlessOfflineInvoker(endpoint)('archiveDown', {});

    // Assess
    await expect(invocation).rejects.toMatchObject({ name: 'ArchiveUnavailableError', message: 'archive database refused the connection' });
  });

  test('throws Lambda.ResourceNotFoundException for a function serverless-offline does not know', async () => {
    // Act
    const invocation = serverlessOfflineInvoker(endpoint)('noSuchFunction', {});

    // Assess
    await expect(invocation).rejects.toMatchObject({ name: 'Lambda.ResourceNotFoundException', message: 'Function not found: noSuchFunction' });
  });

  test('throws Lambda.SdkClientException when nothing listens at the endpoint', async () => {
    // Prepare
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadEndpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));

    // Act
    const invocation = serverlessOfflineInvoker(deadEndpoint)('echo', {});

    // Assess
    await expect(invocation).rejects.toMatchObject({ name: 'Lambda.SdkClientException' });
  });

  test('throws Lambda.ServiceException when the connection is lost during the invocation (the runtime crashed)', async () => {
    // Act
    const invocation = serverlessOfflineInvoker(endpoint)('crashes', {});

    // Assess
    await expect(invocation).rejects.toMatchObject({
      name: 'Lambda.ServiceException',
      message: expect.stringMatching(/lost the invocation of crashes/),
    });
  });

  test('with a connect grace, waits for a runtime that starts listening again', async () => {
    // Prepare: a port with nobody on it, where the stand-in starts listening 600 ms later.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const restarted = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"back":true}'));
    const listening = new Promise<void>((resolve) => setTimeout(() => restarted.listen(port, '127.0.0.1', resolve), 600));

    // Act
    try {
      const result = await serverlessOfflineInvoker(`http://127.0.0.1:${port}`, { connectGraceMs: 30_000 })('echo', {});

      // Assess
      expect(result).toEqual({ back: true });
    } finally {
      await listening;
      restarted.closeAllConnections();
      await new Promise((resolve) => restarted.close(resolve));
    }
  });
});
