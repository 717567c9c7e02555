/**
 * The actions the server answers (the `<Action>` of `X-Amz-Target: AWSStepFunctions.<Action>`), each reading
 * its request members from the JSON body and checking their types before the service sees them.
 */

import { StepFunctionsError } from './errors';
import type { StepFunctionsService } from './service';
import { EXECUTION_STATUSES, type ExecutionStatus } from './store';

export type RequestBody = Readonly<Record<string, unknown>>;

function invalidMember(member: string, expected: string): StepFunctionsError {
  return new StepFunctionsError('ValidationException', `1 validation error detected: '${member}' must be ${expected}`);
}

function optionalText(body: RequestBody, member: string): string | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidMember(member, 'a string');
  return value;
}

function text(body: RequestBody, member: string): string {
  const value = optionalText(body, member);
  if (value === undefined) throw invalidMember(member, 'given');
  return value;
}

function optionalNumber(body: RequestBody, member: string): number | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw invalidMember(member, 'a number');
  return value;
}

function optionalBoolean(body: RequestBody, member: string): boolean | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidMember(member, 'true or false');
  return value;
}

function optionalStatus(body: RequestBody, member: string): ExecutionStatus | undefined {
  const value = optionalText(body, member);
  if (value !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(value)) {
    throw invalidMember(member, `one of ${EXECUTION_STATUSES.join(', ')}`);
  }
  return value as ExecutionStatus | undefined;
}

function page(body: RequestBody) {
  return { maxResults: optionalNumber(body, 'maxResults'), nextToken: optionalText(body, 'nextToken') };
}

type Action = (service: StepFunctionsService, body: RequestBody) => Promise<object>;

const ACTIONS: Readonly<Record<string, Action>> = {
  CreateStateMachine: (service, body) =>
    service.createStateMachine({
      name: text(body, 'name'),
      definition: text(body, 'definition'),
      roleArn: text(body, 'roleArn'),
      type: optionalText(body, 'type'),
    }),
  UpdateStateMachine: (service, body) =>
    service.updateStateMachine({
      stateMachineArn: text(body, 'stateMachineArn'),
      definition: optionalText(body, 'definition'),
      roleArn: optionalText(body, 'roleArn'),
    }),
  DeleteStateMachine: (service, body) => service.deleteStateMachine({ stateMachineArn: text(body, 'stateMachineArn') }),
  ListStateMachines: (service, body) => service.listStateMachines(page(body)),
  DescribeStateMachine: (service, body) => service.describeStateMachine({ stateMachineArn: text(body, 'stateMachineArn') }),
  StartExecution: (service, body) =>
    service.startExecution({
      stateMachineArn: text(body, 'stateMachineArn'),
      name: optionalText(body, 'name'),
      input: optionalText(body, 'input'),
    }),
  DescribeExecution: (service, body) => service.describeExecution({ executionArn: text(body, 'executionArn') }),
  ListExecutions: (service, body) =>
    service.listExecutions({
      stateMachineArn: text(body, 'stateMachineArn'),
      statusFilter: optionalStatus(body, 'statusFilter'),
      ...page(body),
    }),
  GetExecutionHistory: (service, body) =>
    service.getExecutionHistory({
      executionArn: text(body, 'executionArn'),
      reverseOrder: optionalBoolean(body, 'reverseOrder'),
      ...page(body),
    }),
  StopExecution: (service, body) =>
    service.stopExecution({
      executionArn: text(body, 'executionArn'),
      error: optionalText(body, 'error'),
      cause: optionalText(body, 'cause'),
    }),
  DescribeStateMachineForExecution: (service, body) => service.describeStateMachineForExecution({ executionArn: text(body, 'executionArn') }),
};

/** Runs `action`; `UnknownOperationException` for an action this server does not implement. */
export function performAction(service: StepFunctionsService, action: string, body: RequestBody): Promise<object> {
  if (!Object.hasOwn(ACTIONS, action)) {
    throw new StepFunctionsError('UnknownOperationException', `The local Step Functions server does not implement ${action}`);
  }
  return ACTIONS[action](service, body);
}
