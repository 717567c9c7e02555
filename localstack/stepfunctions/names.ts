/**
 * Names and ARNs of state machines, executions and the Lambda functions their Task states call.
 */

import { StepFunctionsError } from './errors';

/**
 * Names of state machines and executions. Narrower than AWS (which also allows some punctuation and
 * non-ASCII letters) on purpose: names become file names under the state directory, and AWS itself
 * recommends ASCII names so that CloudWatch logging works.
 */
const NAME = /^[A-Za-z0-9_-]{1,80}$/;

export function checkName(kind: 'state machine' | 'execution', name: string): void {
  if (!NAME.test(name)) {
    throw new StepFunctionsError('InvalidName', `Invalid ${kind} name "${name}": use 1 to 80 characters among A-Z a-z 0-9 _ -`);
  }
}

export interface Account {
  readonly region: string;
  readonly accountId: string;
}

export function stateMachineArn(account: Account, name: string): string {
  return `arn:aws:states:${account.region}:${account.accountId}:stateMachine:${name}`;
}

export function executionArn(account: Account, stateMachineName: string, executionName: string): string {
  return `arn:aws:states:${account.region}:${account.accountId}:execution:${stateMachineName}:${executionName}`;
}

/** `arn:<partition>:states:<region>:<account>:<resource type>:<names...>`, split; undefined when not that shape. */
function statesArnNames(arn: string, resourceType: string, nameCount: number): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length !== 6 + nameCount) return undefined;
  const [prefix, partition, service, region, accountId, type, ...names] = parts;
  const wellFormed = prefix === 'arn' && partition.startsWith('aws') && service === 'states' && region !== '' && /^\d{12}$/.test(accountId);
  if (!wellFormed || type !== resourceType || names.some((name) => name === '')) return undefined;
  return names;
}

/** The state machine name in a state machine ARN; `InvalidArn` when it is not one. */
export function parseStateMachineArn(arn: string): { readonly stateMachineName: string } {
  const names = statesArnNames(arn, 'stateMachine', 1);
  if (!names) throw new StepFunctionsError('InvalidArn', `Invalid state machine ARN: ${arn}`);
  return { stateMachineName: names[0] };
}

/** The state machine and execution names in an execution ARN; `InvalidArn` when it is not one. */
export function parseExecutionArn(arn: string): { readonly stateMachineName: string; readonly executionName: string } {
  const names = statesArnNames(arn, 'execution', 2);
  if (!names) throw new StepFunctionsError('InvalidArn', `Invalid execution ARN: ${arn}`);
  return { stateMachineName: names[0], executionName: names[1] };
}

const LAMBDA_FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]{1,64})(?::[A-Za-z0-9$_-]+)?$/;

/**
 * The function name a Task `Resource` calls when it is a Lambda function ARN
 * (`arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>]`), else undefined.
 * serverless-offline knows functions only by name, so region, account and qualifier are dropped.
 */
export function lambdaFunctionName(resource: string): string | undefined {
  return LAMBDA_FUNCTION_ARN.exec(resource)?.[1];
}
