/** The Executions side of SfnWorkflow, and the look at the state machine itself, against a mocked Step Functions client. */
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { TerminalError, WorkflowUnavailableError } from '../../../lib/errors';
import { SfnWorkflow } from '../../../lib/workflow/SfnWorkflow';

const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:calms-test';
const EXECUTION = (name: string) => `arn:aws:states:us-east-1:000000000000:execution:calms-test:${name}`;

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

describe('SfnWorkflow as Executions', () => {
  const sfn = mockClient(SFNClient);
  beforeEach(() => sfn.reset());
  const workflow = () => new SfnWorkflow(new SFNClient({ region: 'us-east-1' }), MACHINE);

  it('describes an execution by name, with its input parsed and its dates as ISO text', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION('t1-a') }).resolves({
      executionArn: EXECUTION('t1-a'),
      stateMachineArn: MACHINE,
      name: 't1-a',
      status: 'FAILED',
      startDate: new Date('2026-11-24T12:00:00Z'),
      stopDate: new Date('2026-11-24T12:05:00Z'),
      input: '{"request":{"requestId":"t1-a"}}',
      error: 'ClusterJobFailedError',
      cause: 'the job exited with status 3',
    });

    // Act
    const detail = await workflow().describe('t1-a');

    // Assess
    expect(detail).toEqual({
      name: 't1-a',
      executionArn: EXECUTION('t1-a'),
      status: 'FAILED',
      startedAt: '2026-11-24T12:00:00.000Z',
      stoppedAt: '2026-11-24T12:05:00.000Z',
      input: { request: { requestId: 't1-a' } },
      error: 'ClusterJobFailedError',
      cause: 'the job exited with status 3',
    });
  });

  it('answers undefined for an execution that does not exist; an outage is WorkflowUnavailableError', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION('t1-none') }).rejects(awsError('ExecutionDoesNotExist', 400));
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION('t1-down') }).rejects(awsError('ServiceUnavailable', 503));
    sfn.on(StopExecutionCommand).rejects(awsError('AccessDeniedException', 400));

    // Act
    const missing = await workflow().describe('t1-none');
    const down = workflow().describe('t1-down');
    const refused = workflow().stop('t1-a', 'Cancelled', 'why');

    // Assess
    expect(missing).toBeUndefined();
    await expect(down).rejects.toThrow(WorkflowUnavailableError);
    await expect(refused).rejects.toThrow(TerminalError);
  });

  it('lists every page of executions, keeps those whose name matches, newest first', async () => {
    // Prepare
    const summary = (name: string, minute: number) => ({
      executionArn: EXECUTION(name),
      stateMachineArn: MACHINE,
      name,
      status: 'RUNNING' as const,
      startDate: new Date(`2026-11-24T12:${String(minute).padStart(2, '0')}:00Z`),
    });
    sfn
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [summary('t16140-a', 1), summary('t9-b', 2)], nextToken: 'next' })
      .resolvesOnce({ executions: [summary('t16140-c', 3)] });

    // Act
    const found = await workflow().list((name) => name.startsWith('t16140-'));

    // Assess
    expect(found.map((execution) => execution.name)).toEqual(['t16140-c', 't16140-a']);
    expect(sfn.commandCalls(ListExecutionsCommand).map((call) => call.args[0].input)).toEqual([
      { stateMachineArn: MACHINE, maxResults: 1000, nextToken: undefined },
      { stateMachineArn: MACHINE, maxResults: 1000, nextToken: 'next' },
    ]);
  });

  it('reads the history newest first, only as many pages as needed, as state events with their data', async () => {
    // Prepare
    const at = new Date('2026-11-24T12:00:00Z');
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({
        events: [
          {
            id: 9,
            timestamp: at,
            type: 'WaitStateEntered',
            stateEnteredEventDetails: { name: 'WaitForCalibrationJob', input: '{"calibration":{"job":{}}}' },
          },
          { id: 8, timestamp: at, type: 'TaskStateExited', stateExitedEventDetails: { name: 'CheckCalibrationJob', output: 'not json' } },
          { id: 7, timestamp: at, type: 'LambdaFunctionSucceeded' },
        ],
        nextToken: 'more',
      })
      .resolvesOnce({ events: [] });

    // Act
    const events = await workflow().recentStates('t1-a', (read) => read.some((event) => event.phase === 'entered'));

    // Assess
    expect(events).toEqual([
      { state: 'WaitForCalibrationJob', phase: 'entered', at: at.toISOString(), data: { calibration: { job: {} } } },
      { state: 'CheckCalibrationJob', phase: 'exited', at: at.toISOString(), data: undefined },
    ]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]!.args[0].input).toEqual({
      executionArn: EXECUTION('t1-a'),
      reverseOrder: true,
      maxResults: 200,
      nextToken: undefined,
    });
  });

  it('stops an execution by name with the error and cause given', async () => {
    // Prepare
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });

    // Act
    await workflow().stop('t1-a', 'Cancelled', 'Cancelled through the CalMS API');

    // Assess
    expect(sfn.commandCalls(StopExecutionCommand)[0]!.args[0].input).toEqual({
      executionArn: EXECUTION('t1-a'),
      error: 'Cancelled',
      cause: 'Cancelled through the CalMS API',
    });
  });
});

describe('SfnWorkflow as StateMachineLookup (calms doctor)', () => {
  const sfn = mockClient(SFNClient);
  beforeEach(() => sfn.reset());
  const workflow = () => new SfnWorkflow(new SFNClient({ region: 'us-east-1' }), MACHINE);

  it('names the state machine and its status; none at the ARN is undefined; an outage is WorkflowUnavailableError', async () => {
    // Prepare
    sfn
      .on(DescribeStateMachineCommand)
      .resolvesOnce({ name: 'calms-test', status: 'ACTIVE' } as never)
      .rejectsOnce(awsError('StateMachineDoesNotExist', 400))
      .rejectsOnce(awsError('ServiceUnavailable', 503));

    // Act
    const found = await workflow().stateMachine();
    const missing = await workflow().stateMachine();
    const outage = workflow().stateMachine();

    // Assess
    expect(found).toEqual({ name: 'calms-test', status: 'ACTIVE' });
    expect(missing).toBeUndefined();
    await expect(outage).rejects.toThrow(WorkflowUnavailableError);
    expect(sfn.commandCalls(DescribeStateMachineCommand).map((call) => call.args[0].input)).toEqual(
      [0, 1, 2].map(() => ({ stateMachineArn: MACHINE })),
    );
  });
});
