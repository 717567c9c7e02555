/**
 * The real state machine run by the library the local Step Functions server is built on, with every Lambda
 * replaced by a stand-in: which Tasks an input leads to, when the entitlement says no or says nothing CalMS knows.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import { localDefinition } from '../../localstack/cloud';
import { compileDefinition } from '../../localstack/stepfunctions/definition';
import { RELEASING_STATES } from '../releasingStates';

type RunInput = Parameters<StateMachine['run']>[0];
type TaskHandlers = NonNullable<NonNullable<NonNullable<Parameters<StateMachine['run']>[1]>['overrides']>['taskResourceLocalHandlers']>;

const REQUEST = { requestId: 't16140-uid___A001_X159a_X6b-20261124T120000Z-abcd1234', mous: 'uid___A001_X159a_X6b' };
const compiled = compileDefinition(localDefinition('test'));

/** Runs an execution whose CheckEntitlement answers `decision`; returns the Tasks called, in order. */
async function tasksCalled(input: RunInput, decision: RunInput): Promise<string[]> {
  const called: string[] = [];
  const handlers: TaskHandlers = Object.fromEntries(
    [...compiled.lambdaTasks.keys()].map((state) => [
      state,
      async () => {
        called.push(state);
        if (state === 'CheckEntitlement') return decision;
        return {};
      },
    ]),
  );
  const run = compiled.machine.run(input, { overrides: { taskResourceLocalHandlers: handlers } });
  await run.result.catch(() => undefined);
  return called;
}

describe('the state machine, run', () => {
  it.each([
    ['no outcome', { reason: 'something went wrong' }],
    ['an outcome CalMS does not know', { outcome: 'MAYBE' }],
    ['ENTITLED in another letter case', { outcome: 'entitled' }],
    ['an outcome that is no string', { outcome: true }],
    ['a null outcome', { outcome: null }],
  ])('fails closed on %s: nothing is staged, the maintainer is told', async (_label, decision) => {
    // Prepare
    const input = { request: REQUEST };

    // Act
    const called = await tasksCalled(input, decision);

    // Assess
    expect(called).toEqual(['EmailRequestToAog', 'CheckEntitlement', 'NotifyMaintainerOfFailure']);
  });

  it('goes on to the look-up for pre-staged MSs on ENTITLED', async () => {
    // Prepare
    const input = { request: REQUEST };

    // Act
    const called = await tasksCalled(input, { outcome: 'ENTITLED', reason: 'the PI' });

    // Assess
    expect(called.slice(0, 3)).toEqual(['EmailRequestToAog', 'CheckEntitlement', 'LookForStagedMeasurementSets']);
  });

  it.each([
    'LookForStagedMeasurementSets',
    'AcquireStagingSlot',
    'CopyStagedMeasurementSets',
    'PublishDelivery',
    'EmailDownloadLink',
    'IsUserEntitled',
  ])('decides the entitlement again for a re-drive naming %s, and a user not entitled today gets no data and no link', async (resumeAt) => {
    // Prepare: an input as anyone allowed to start an execution could write it, entitlement included
    const input = {
      request: REQUEST,
      entitlement: { outcome: 'ENTITLED', reason: 'written by hand' },
      redrive: { attempt: 1, resumeAt, failedState: resumeAt, previousExecution: REQUEST.requestId },
    };

    // Act
    const called = await tasksCalled(input, { outcome: 'NOT_ENTITLED', reason: 'a stranger' });

    // Assess
    expect(called).toEqual(['CheckEntitlement', 'ReplyNotEntitled']);
    expect(called.filter((task) => RELEASING_STATES.includes(task))).toEqual([]);
  });

  it('resumes a re-drive entitled today where its request failed', async () => {
    // Prepare
    const input = {
      request: REQUEST,
      staging: { tarballs: [] },
      redrive: { attempt: 1, resumeAt: 'PublishDelivery', failedState: 'PublishDelivery', previousExecution: REQUEST.requestId },
    };

    // Act
    const called = await tasksCalled(input, { outcome: 'ENTITLED', reason: 'the PI' });

    // Assess
    expect(called.slice(0, 2)).toEqual(['CheckEntitlement', 'PublishDelivery']);
  });

  it('sends a re-drive whose request email never went out through the email and then the entitlement', async () => {
    // Prepare
    const input = {
      request: REQUEST,
      redrive: { attempt: 1, resumeAt: 'EmailRequestToAog', failedState: 'EmailRequestToAog', previousExecution: REQUEST.requestId },
    };

    // Act
    const called = await tasksCalled(input, { outcome: 'NOT_ENTITLED', reason: 'a stranger' });

    // Assess
    expect(called).toEqual(['EmailRequestToAog', 'CheckEntitlement', 'ReplyNotEntitled']);
  });
});
