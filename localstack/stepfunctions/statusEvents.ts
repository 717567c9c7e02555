/**
 * The EventBridge event Step Functions sends when an execution's status changes ("Step Functions Execution
 * Status Change", source aws.states), built from the local server's execution record in AWS's shape: dates in
 * milliseconds, input and output as JSON text with their `*Details`, and null where AWS sends null.
 */
import { randomUUID } from 'node:crypto';
import type { Account } from './names';
import type { ExecutionRecord } from './store';

export interface ExecutionStatusChangeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'Step Functions Execution Status Change';
  readonly source: 'aws.states';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly executionArn: string;
    readonly stateMachineArn: string;
    readonly name: string;
    readonly status: ExecutionRecord['status'];
    readonly startDate: number;
    readonly stopDate: number | null;
    readonly input: string;
    readonly inputDetails: { readonly included: true };
    readonly output: string | null;
    readonly outputDetails: { readonly included: true } | null;
    readonly error: string | null;
    readonly cause: string | null;
  };
}

/** Told of every status change: the execution started (RUNNING) or ended. */
export type StatusChangeListener = (event: ExecutionStatusChangeEvent) => void;

/** The record keeps seconds (as the JSON protocol answers); the event carries milliseconds. */
const millis = (seconds: number) => Math.round(seconds * 1000);

export function executionStatusChangeEvent(record: ExecutionRecord, account: Account): ExecutionStatusChangeEvent {
  const changedAt = record.stopDate ?? record.startDate;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: account.accountId,
    time: new Date(millis(changedAt)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: account.region,
    resources: [record.executionArn],
    detail: {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: millis(record.startDate),
      stopDate: record.stopDate === undefined ? null : millis(record.stopDate),
      input: record.input,
      inputDetails: { included: true },
      output: record.output ?? null,
      outputDetails: record.output === undefined ? null : { included: true },
      error: record.error ?? null,
      cause: record.cause ?? null,
    },
  };
}
