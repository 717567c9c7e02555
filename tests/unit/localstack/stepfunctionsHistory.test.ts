import {
  ExecutionHistory,
  historyEventFrom,
  lambdaFailedEvent,
  type HistoryEvent,
  type LibraryEvent,
} from '../../../localstack/stepfunctions/history';

const AT = 1_700_000_000_123;

describe('historyEventFrom', () => {
  test('maps a state entered to <Type>StateEntered with the input as JSON text', () => {
    // Prepare
    const event: LibraryEvent = { type: 'StateEntered', timestamp: AT, state: { name: 'IsDeliverable', type: 'Choice', input: { uid: 'u' } } };

    // Act
    const mapped = historyEventFrom(event);

    // Assess
    expect(mapped).toEqual({
      type: 'ChoiceStateEntered',
      timestamp: 1_700_000_000.123,
      stateEnteredEventDetails: { name: 'IsDeliverable', input: '{"uid":"u"}', inputDetails: { truncated: false } },
    });
  });

  test('maps a state exited to <Type>StateExited with the output as JSON text', () => {
    // Prepare
    const event: LibraryEvent = { type: 'StateExited', timestamp: AT, state: { name: 'FindMous', type: 'Task', input: {}, output: [1, 2] } };

    // Act
    const mapped = historyEventFrom(event);

    // Assess
    expect(mapped).toMatchObject({ type: 'TaskStateExited', stateExitedEventDetails: { name: 'FindMous', output: '[1,2]' } });
  });

  test('maps a failed execution to ExecutionFailed, turning an object cause into text', () => {
    // Prepare
    const event: LibraryEvent = { type: 'ExecutionFailed', timestamp: AT, Error: 'Lambda.Unknown', Cause: { errorMessage: 'out of memory' } };

    // Act
    const mapped = historyEventFrom(event);

    // Assess
    expect(mapped).toEqual({
      type: 'ExecutionFailed',
      timestamp: 1_700_000_000.123,
      executionFailedEventDetails: { error: 'Lambda.Unknown', cause: '{"errorMessage":"out of memory"}' },
    });
  });

  test('maps success, timeout and Map iterations to their AWS events', () => {
    // Prepare
    const parentState = { name: 'CopyEachExecBlock', type: 'Map' as const, input: [] };
    const events: LibraryEvent[] = [
      { type: 'MapIterationStarted', timestamp: AT, parentState, index: 2 },
      { type: 'MapIterationFailed', timestamp: AT, parentState, index: 2, Error: 'E', Cause: 'c' },
      { type: 'ExecutionSucceeded', timestamp: AT, output: { done: true } },
      { type: 'ExecutionTimeout', timestamp: AT },
    ];

    // Act
    const mapped = events.map(historyEventFrom);

    // Assess
    expect(mapped).toEqual([
      expect.objectContaining({ type: 'MapIterationStarted', mapIterationStartedEventDetails: { name: 'CopyEachExecBlock', index: 2 } }),
      expect.objectContaining({ type: 'MapIterationFailed', mapIterationFailedEventDetails: { name: 'CopyEachExecBlock', index: 2 } }),
      expect.objectContaining({ type: 'ExecutionSucceeded', executionSucceededEventDetails: expect.objectContaining({ output: '{"done":true}' }) }),
      expect.objectContaining({ type: 'ExecutionTimedOut', executionTimedOutEventDetails: expect.objectContaining({ error: 'States.Timeout' }) }),
    ]);
  });

  test('maps a Task timeout to LambdaFunctionTimedOut', () => {
    // Prepare
    const event: LibraryEvent = {
      type: 'StateFailed',
      timestamp: AT,
      state: { name: 'SubmitClusterJob', type: 'Task', input: {} },
      Error: 'States.Timeout',
      Cause: 'States.Timeout',
    };

    // Act
    const mapped = historyEventFrom(event);

    // Assess
    expect(mapped).toMatchObject({ type: 'LambdaFunctionTimedOut', lambdaFunctionTimedOutEventDetails: { error: 'States.Timeout' } });
  });

  test.each<LibraryEvent>([
    { type: 'ExecutionStarted', timestamp: AT, input: {} },
    { type: 'ExecutionAborted', timestamp: AT },
    { type: 'StateFailed', timestamp: AT, state: { name: 'FindMous', type: 'Task', input: {} }, Error: 'ArchiveUnavailableError', Cause: 'down' },
    {
      type: 'StateRetried',
      timestamp: AT,
      state: { name: 'FindMous', type: 'Task', input: {} },
      retry: { retrier: { ErrorEquals: ['States.ALL'] }, attempt: 1 },
    },
    {
      type: 'StateCaught',
      timestamp: AT,
      state: { name: 'FindMous', type: 'Task', input: {} },
      catch: { catcher: { ErrorEquals: ['States.ALL'], Next: 'X' } },
    },
    { type: 'ParallelBranchStarted', timestamp: AT, parentState: { name: 'P', type: 'Parallel', input: {} } },
  ])('has no AWS event for the library event $type', (event) => {
    // Act
    const mapped = historyEventFrom(event);

    // Assess
    expect(mapped).toBeUndefined();
  });
});

describe('ExecutionHistory', () => {
  test('numbers events from where the saved history ended, each pointing at the one before', () => {
    // Prepare
    const saved: HistoryEvent[] = [{ id: 1, previousEventId: 0, type: 'ExecutionStarted', timestamp: 1 }];
    const changes: number[] = [];
    const history = new ExecutionHistory(saved, (events) => changes.push(events.length));

    // Act
    history.append({ type: 'TaskStateEntered', timestamp: 2 });
    history.append(lambdaFailedEvent(Object.assign(new Error('down'), { name: 'ArchiveUnavailableError' })));

    // Assess
    expect(history.all.map(({ id, previousEventId }) => [id, previousEventId])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
    expect(history.all[2]).toMatchObject({ lambdaFunctionFailedEventDetails: { error: 'ArchiveUnavailableError', cause: 'down' } });
    expect(changes).toEqual([2, 3]);
  });

  test('ignores events after the closing one', () => {
    // Prepare
    const history = new ExecutionHistory([], () => undefined);

    // Act
    history.close({ type: 'ExecutionAborted', timestamp: 1 });
    history.append({ type: 'LambdaFunctionSucceeded', timestamp: 2 });

    // Assess
    expect(history.all.map((event) => event.type)).toEqual(['ExecutionAborted']);
  });
});
