import type { HistoryEvent, LibraryEvent } from '../../../localstack/stepfunctions/history';
import { compileDefinition } from '../../../localstack/stepfunctions/definition';
import { resumedRun, resumePointOf, waitDeadline } from '../../../localstack/stepfunctions/resume';

const FIND = 'arn:aws:lambda:us-east-1:000000000000:function:findMous';

const DEFINITION = {
  StartAt: 'FindMous',
  TimeoutSeconds: 600,
  States: {
    FindMous: { Type: 'Task', Resource: FIND, ResultPath: '$.mous', Next: 'IsDeliverable' },
    IsDeliverable: { Type: 'Choice', Choices: [{ Variable: '$.mous.ok', BooleanEquals: true, Next: 'WaitForSlot' }], Default: 'Done' },
    WaitForSlot: { Type: 'Wait', SecondsPath: '$.wait', Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
};
const compiled = compileDefinition(JSON.stringify(DEFINITION));

/** A history of these events, numbered, one second apart from 1 700 000 000. */
function history(...events: [type: string, details?: Record<string, unknown>][]): HistoryEvent[] {
  return events.map(([type, details], index) => ({ id: index + 1, previousEventId: index, type, timestamp: 1_700_000_000 + index, ...details }));
}
const entered = (type: string, name: string, input: unknown): [string, Record<string, unknown>] => [
  `${type}StateEntered`,
  { stateEnteredEventDetails: { name, input: JSON.stringify(input) } },
];
const exited = (type: string, name: string, output: unknown): [string, Record<string, unknown>] => [
  `${type}StateExited`,
  { stateExitedEventDetails: { name, output: JSON.stringify(output) } },
];

describe('resumePointOf', () => {
  test('nothing entered yet: the execution starts at StartAt with its input', () => {
    // Act
    const point = resumePointOf(compiled.definition, history(['ExecutionStarted']), { uid: 'u' });

    // Assess
    expect(point).toEqual({ state: 'FindMous', input: { uid: 'u' }, entered: false, lambdaLost: false });
  });

  test('a Task whose Lambda was called and did not answer runs again with its input, its answer counted lost', () => {
    // Act
    const point = resumePointOf(
      compiled.definition,
      history(['ExecutionStarted'], entered('Task', 'FindMous', { uid: 'u' }), ['LambdaFunctionScheduled'], ['LambdaFunctionStarted']),
      { uid: 'other' },
    );

    // Assess
    expect(point).toEqual({ state: 'FindMous', input: { uid: 'u' }, entered: true, lambdaLost: true });
  });

  test('a Task between a failed attempt and its retry runs again without a lost answer', () => {
    // Act
    const point = resumePointOf(
      compiled.definition,
      history(
        ['ExecutionStarted'],
        entered('Task', 'FindMous', { uid: 'u' }),
        ['LambdaFunctionScheduled'],
        ['LambdaFunctionStarted'],
        ['LambdaFunctionFailed'],
      ),
      {},
    );

    // Assess
    expect(point).toMatchObject({ state: 'FindMous', entered: true, lambdaLost: false });
  });

  test('a state left whose successor is not on disk yet: its Next with its output, or a Choice again', () => {
    // Act
    const afterTask = resumePointOf(
      compiled.definition,
      history(entered('Task', 'FindMous', {}), exited('Task', 'FindMous', { mous: { ok: true } })),
      {},
    );
    const afterChoice = resumePointOf(
      compiled.definition,
      history(
        entered('Task', 'FindMous', {}),
        exited('Task', 'FindMous', { m: 1 }),
        entered('Choice', 'IsDeliverable', { m: 1 }),
        exited('Choice', 'IsDeliverable', { m: 1 }),
      ),
      {},
    );

    // Assess
    expect(afterTask).toEqual({ state: 'IsDeliverable', input: { mous: { ok: true } }, entered: false, lambdaLost: false });
    expect(afterChoice).toEqual({ state: 'IsDeliverable', input: { m: 1 }, entered: false, lambdaLost: false });
  });

  test('a Wait keeps the deadline it had when it was entered', () => {
    // Act
    const point = resumePointOf(compiled.definition, history(['ExecutionStarted'], entered('Wait', 'WaitForSlot', { wait: 30 })), {});

    // Assess: entered at 1 700 000 001 s, for 30 s.
    expect(point).toMatchObject({ state: 'WaitForSlot', entered: true, waitUntil: 1_700_000_031_000 });
  });
});

describe('waitDeadline', () => {
  test('reads Seconds, Timestamp, SecondsPath after InputPath, and TimestampPath', () => {
    // Act, Assess
    expect(waitDeadline({ Type: 'Wait', Seconds: 5 }, {}, 1000)).toBe(6000);
    expect(waitDeadline({ Type: 'Wait', Timestamp: '2026-01-01T00:00:00Z' }, {}, 1000)).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(waitDeadline({ Type: 'Wait', InputPath: '$.slot', SecondsPath: '$.wait' }, { slot: { wait: 2 } }, 1000)).toBe(3000);
    expect(waitDeadline({ Type: 'Wait', TimestampPath: '$.until' }, { until: '2026-01-01T00:00:01Z' }, 0)).toBe(Date.parse('2026-01-01T00:00:01Z'));
  });
});

describe('resumedRun', () => {
  const stateEvent = (type: 'StateEntered' | 'StateExited', name: string, stateType = 'Task'): LibraryEvent =>
    ({ type, timestamp: 0, state: { name, type: stateType, input: {} } }) as LibraryEvent;

  test('a Task in flight: the run starts there with the execution input as context, and its second entry is left out once', () => {
    // Prepare
    const point = { state: 'FindMous', input: { uid: 'u' }, entered: true, lambdaLost: true };

    // Act
    const run = resumedRun(compiled, point, { uid: 'original' }, 1_700_000_000, 1_700_000_100_000);

    // Assess
    expect(run.input).toEqual({ uid: 'original' });
    expect(run.translate(stateEvent('StateEntered', 'Resume.Input', 'Pass'))).toBeUndefined();
    expect(run.translate(stateEvent('StateEntered', 'FindMous'))).toBeUndefined();
    expect(run.translate(stateEvent('StateExited', 'FindMous'))).toMatchObject({ state: { name: 'FindMous' } });
    expect(run.translate(stateEvent('StateEntered', 'FindMous'))).toMatchObject({ state: { name: 'FindMous' } });
  });

  test('the machine timeout counts from the start of the execution, not from the resumption', async () => {
    // Prepare: started 590 s ago with 600 s allowed, stopped in the Wait of 30 s.
    const now = Date.now();
    const point = { state: 'WaitForSlot', input: { wait: 30 }, entered: true, waitUntil: now + 20_000, lambdaLost: false };

    // Act
    const run = resumedRun(compiled, point, {}, now / 1000 - 590, now);
    const result = run.machine.run(run.input, { noThrowOnAbort: true });

    // Assess
    await expect(result.result).rejects.toThrow(/timed out/i);
  });

  test('a Wait in flight goes on as a Wait on its deadline and is recorded under its own name', async () => {
    // Prepare
    const point = { state: 'WaitForSlot', input: { wait: 3600, uid: 'u' }, entered: true, waitUntil: Date.now() + 50, lambdaLost: false };

    // Act
    const run = resumedRun(compiled, point, { uid: 'u' }, Date.now() / 1000);
    const execution = run.machine.run(run.input);
    const events: LibraryEvent[] = [];
    for await (const event of execution.eventLogs) {
      const translated = run.translate(event);
      if (translated) events.push(translated);
    }

    // Assess: the Wait ended after 50 ms, not an hour, and the helper states do not show.
    await expect(execution.result).resolves.toEqual({ wait: 3600, uid: 'u' });
    const states = events.filter((event) => event.type === 'StateEntered' || event.type === 'StateExited');
    expect(states.map((event) => [event.type, 'state' in event ? event.state.name : ''])).toEqual([
      ['StateExited', 'WaitForSlot'],
      ['StateEntered', 'Done'],
      ['StateExited', 'Done'],
    ]);
  });
});
