import { StepFunctionsError } from '../../../localstack/stepfunctions/errors';
import {
  checkName,
  executionArn,
  lambdaFunctionName,
  parseExecutionArn,
  parseStateMachineArn,
  stateMachineArn,
} from '../../../localstack/stepfunctions/names';

const ACCOUNT = { region: 'us-east-1', accountId: '000000000000' };

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof StepFunctionsError ? error.code : `not a StepFunctionsError: ${String(error)}`;
  }
  return undefined;
}

describe('checkName', () => {
  test.each(['ticket-42', 'uid___A001_X1296_X675', 'a', 'x'.repeat(80)])('accepts %s', (name) => {
    // Act
    const code = codeOf(() => checkName('execution', name));

    // Assess
    expect(code).toBeUndefined();
  });

  test.each(['', 'x'.repeat(81), 'has space', 'a/b', 'a:b', 'a.b', 'é'])('refuses "%s" with InvalidName', (name) => {
    // Act
    const code = codeOf(() => checkName('execution', name));

    // Assess
    expect(code).toBe('InvalidName');
  });
});

describe('ARNs', () => {
  test('parse back the names they were built from', () => {
    // Prepare
    const machine = stateMachineArn(ACCOUNT, 'calms-local');
    const execution = executionArn(ACCOUNT, 'calms-local', 'ticket-42');

    // Act
    const parsedMachine = parseStateMachineArn(machine);
    const parsedExecution = parseExecutionArn(execution);

    // Assess
    expect(machine).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:calms-local');
    expect(execution).toBe('arn:aws:states:us-east-1:000000000000:execution:calms-local:ticket-42');
    expect(parsedMachine).toEqual({ stateMachineName: 'calms-local' });
    expect(parsedExecution).toEqual({ stateMachineName: 'calms-local', executionName: 'ticket-42' });
  });

  test.each([
    'calms-local',
    'arn:aws:states:us-east-1:000000000000:execution:calms-local:ticket-42',
    'arn:aws:lambda:us-east-1:000000000000:stateMachine:calms-local',
    'arn:aws:states:us-east-1:0000:stateMachine:calms-local',
    'arn:aws:states:us-east-1:000000000000:stateMachine:',
  ])('a state machine ARN is refused with InvalidArn when it is %s', (arn) => {
    // Act
    const code = codeOf(() => parseStateMachineArn(arn));

    // Assess
    expect(code).toBe('InvalidArn');
  });

  test('an execution ARN is refused with InvalidArn when it names a state machine', () => {
    // Act
    const code = codeOf(() => parseExecutionArn('arn:aws:states:us-east-1:000000000000:stateMachine:calms-local'));

    // Assess
    expect(code).toBe('InvalidArn');
  });
});

describe('lambdaFunctionName', () => {
  test.each([
    ['arn:aws:lambda:us-east-1:000000000000:function:calms-local-findMous', 'calms-local-findMous'],
    ['arn:aws:lambda:eu-west-1:123456789012:function:findMous:live', 'findMous'],
    ['arn:aws:lambda:eu-west-1:123456789012:function:findMous:$LATEST', 'findMous'],
  ])('reads the function name of %s', (resource, functionName) => {
    // Act
    const name = lambdaFunctionName(resource);

    // Assess
    expect(name).toBe(functionName);
  });

  test.each([
    'arn:aws:states:::lambda:invoke',
    'arn:aws:states:::lambda:invoke.waitForTaskToken',
    'arn:aws:states:us-east-1:000000000000:activity:approve',
    'findMous',
  ])('is undefined for %s', (resource) => {
    // Act
    const name = lambdaFunctionName(resource);

    // Assess
    expect(name).toBeUndefined();
  });
});
