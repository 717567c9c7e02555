/**
 * The local EventBridge: serverless.yml's rule, resolved for the local cloud, matches the status changes the
 * local Step Functions server emits exactly where AWS's would, and a matching event invokes the function.
 */
import fs from 'node:fs';
import path from 'node:path';
import { eventRulesFromServerless, localEventBus, matchesPattern } from '../../../localstack/eventBridge';
import { executionStatusChangeEvent } from '../../../localstack/stepfunctions/statusEvents';
import type { ExecutionRecord } from '../../../localstack/stepfunctions/store';
import { RecordingLogger } from '../fakes/logger';

const SERVERLESS = fs.readFileSync(path.resolve(__dirname, '../../../serverless.yml'), 'utf8');
const LOCAL = { service: 'calms', stage: 'local', region: 'us-east-1', accountId: '000000000000' };
const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:calms-local';
const ACCOUNT = { region: 'us-east-1', accountId: '000000000000' };

function record(status: ExecutionRecord['status'], stateMachineArn = MACHINE): ExecutionRecord {
  return {
    executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:t1-x`,
    stateMachineArn,
    name: 't1-x',
    status,
    input: '{"request":{}}',
    startDate: 1_764_979_200.5,
    ...(status === 'RUNNING' ? {} : { stopDate: 1_764_979_260.25, error: 'States.Timeout' }),
  };
}

describe('the local EventBridge', () => {
  it('reads the watcher rule from serverless.yml with the state machine ARN the local cloud deploys', () => {
    // Act
    const rules = eventRulesFromServerless(SERVERLESS, LOCAL);

    // Assess
    expect(rules).toEqual([
      {
        functionName: 'calms-local-watchExecutionEnd',
        pattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: { stateMachineArn: [MACHINE], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
        },
      },
    ]);
  });

  it('matches the ends FAILED, TIMED_OUT and ABORTED of this state machine, and not its start, a success or another machine', () => {
    // Prepare
    const [rule] = eventRulesFromServerless(SERVERLESS, LOCAL);
    const event = (status: ExecutionRecord['status'], machine?: string) => executionStatusChangeEvent(record(status, machine), ACCOUNT);

    // Act
    const matched = (['FAILED', 'TIMED_OUT', 'ABORTED', 'RUNNING', 'SUCCEEDED'] as const).map((status) =>
      matchesPattern(rule!.pattern, event(status)),
    );
    const otherMachine = matchesPattern(rule!.pattern, event('FAILED', `${MACHINE}-other`));

    // Assess
    expect(matched).toEqual([true, true, true, false, false]);
    expect(otherMachine).toBe(false);
  });

  it("emits the event in AWS's shape: dates in milliseconds, the input as text, null where AWS sends null", () => {
    // Act
    const event = executionStatusChangeEvent(record('TIMED_OUT'), ACCOUNT);

    // Assess
    expect(event).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: '000000000000',
      time: '2025-12-06T00:01:00Z',
      region: 'us-east-1',
      resources: [record('TIMED_OUT').executionArn],
      detail: {
        executionArn: record('TIMED_OUT').executionArn,
        stateMachineArn: MACHINE,
        name: 't1-x',
        status: 'TIMED_OUT',
        startDate: 1_764_979_200_500,
        stopDate: 1_764_979_260_250,
        input: '{"request":{}}',
        inputDetails: { included: true },
        output: null,
        outputDetails: null,
        error: 'States.Timeout',
        cause: null,
      },
    });
  });

  it('invokes the matching function, and again after a failure, as Lambda retries an asynchronous invocation', async () => {
    // Prepare
    const rules = eventRulesFromServerless(SERVERLESS, LOCAL);
    const calls: string[] = [];
    let failures = 1;
    const invoke = async (functionName: string) => {
      calls.push(functionName);
      if (failures-- > 0) throw new Error('serverless-offline away');
      return null;
    };
    const bus = localEventBus(rules, invoke, new RecordingLogger(), 1);

    // Act
    bus(executionStatusChangeEvent(record('ABORTED'), ACCOUNT));
    bus(executionStatusChangeEvent(record('SUCCEEDED'), ACCOUNT));
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Assess
    expect(calls).toEqual(['calms-local-watchExecutionEnd', 'calms-local-watchExecutionEnd']);
  });

  it('refuses what it cannot resolve or match, rather than match wrongly', () => {
    // Act
    const unresolved = () =>
      eventRulesFromServerless(
        'functions:\n  f:\n    events:\n      - eventBridge:\n          pattern:\n            source:\n              - ${env:X}\n',
        LOCAL,
      );
    const contentFilter = () => matchesPattern({ source: [{ prefix: 'aws.' } as never] }, { source: 'aws.states' });

    // Assess
    expect(unresolved).toThrow('cannot resolve ${env:X}');
    expect(contentFilter).toThrow('exact values only');
  });
});
