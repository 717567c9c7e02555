import { compileDefinition } from '../../../localstack/stepfunctions/definition';
import { StepFunctionsError } from '../../../localstack/stepfunctions/errors';

const FIND_MOUS = 'arn:aws:lambda:us-east-1:000000000000:function:calms-local-findMous';
const COPY = 'arn:aws:lambda:us-east-1:000000000000:function:calms-local-copyExecBlock';
const MAIL = 'arn:aws:lambda:us-east-1:000000000000:function:calms-local-sendMail:live';

function refusal(definition: unknown): StepFunctionsError | undefined {
  try {
    compileDefinition(typeof definition === 'string' ? definition : JSON.stringify(definition));
  } catch (error) {
    if (error instanceof StepFunctionsError) return error;
    throw error;
  }
  return undefined;
}

function oneTask(state: object) {
  return { StartAt: 'FindMous', States: { FindMous: { Type: 'Task', End: true, ...state } } };
}

describe('compileDefinition', () => {
  test('finds every Lambda Task, nested in Map and Parallel too', () => {
    // Prepare
    const definition = {
      StartAt: 'FindMous',
      States: {
        FindMous: { Type: 'Task', Resource: FIND_MOUS, Next: 'CopyEachExecBlock' },
        CopyEachExecBlock: {
          Type: 'Map',
          ItemsPath: '$.execBlocks',
          ItemProcessor: { StartAt: 'CopyExecBlock', States: { CopyExecBlock: { Type: 'Task', Resource: COPY, End: true } } },
          Next: 'Notify',
        },
        Notify: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'MailUser', States: { MailUser: { Type: 'Task', Resource: MAIL, End: true } } }],
          End: true,
        },
      },
    };

    // Act
    const { lambdaTasks } = compileDefinition(JSON.stringify(definition));

    // Assess
    expect(Object.fromEntries(lambdaTasks)).toEqual({
      FindMous: { resource: FIND_MOUS, functionName: 'calms-local-findMous' },
      CopyExecBlock: { resource: COPY, functionName: 'calms-local-copyExecBlock' },
      MailUser: { resource: MAIL, functionName: 'calms-local-sendMail' },
    });
  });

  test('refuses a Task that is not a Lambda ARN, naming the state, even inside a Map', () => {
    // Prepare
    const definition = {
      StartAt: 'CopyEachExecBlock',
      States: {
        CopyEachExecBlock: {
          Type: 'Map',
          Iterator: {
            StartAt: 'CopyExecBlock',
            States: { CopyExecBlock: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: COPY }, End: true } },
          },
          End: true,
        },
      },
    };

    // Act
    const error = refusal(definition);

    // Assess
    expect(error?.code).toBe('InvalidDefinition');
    expect(error?.message).toContain('"CopyExecBlock"');
  });

  test.each([
    ['JSONata for the whole machine', { QueryLanguage: 'JSONata', ...oneTask({ Resource: FIND_MOUS }) }],
    ['JSONata in one state', oneTask({ Resource: FIND_MOUS, QueryLanguage: 'JSONata' })],
    ['variables', oneTask({ Resource: FIND_MOUS, Assign: { ticket: 1 } })],
  ])('refuses %s, which the library would ignore', (_, definition) => {
    // Act
    const error = refusal(definition);

    // Assess
    expect(error?.code).toBe('InvalidDefinition');
  });

  test.each([
    ['text that is not JSON', '{"StartAt": '],
    ['a state nothing reaches', { StartAt: 'A', States: { A: { Type: 'Pass', End: true }, B: { Type: 'Pass', End: true } } }],
    ['a StartAt naming no state', { StartAt: 'Nowhere', States: { A: { Type: 'Pass', End: true } } }],
  ])('refuses %s as InvalidDefinition', (_, definition) => {
    // Act
    const error = refusal(definition);

    // Assess
    expect(error?.code).toBe('InvalidDefinition');
  });

  describe('timers', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    test('a Task without TimeoutSeconds outlives the library default of 60 s, as on AWS', async () => {
      // Prepare
      const { machine } = compileDefinition(JSON.stringify(oneTask({ Resource: FIND_MOUS })));
      const run = machine.run(
        {},
        { overrides: { taskResourceLocalHandlers: { FindMous: () => new Promise(() => undefined) } }, noThrowOnAbort: true },
      );
      let ended = false;
      run.result.then(
        () => (ended = true),
        () => (ended = true),
      );

      // Act
      await jest.advanceTimersByTimeAsync(10 * 60 * 1000);

      // Assess
      expect(ended).toBe(false);
      run.abort();
    });

    test('a Wait longer than Node timers allow still waits instead of ending at once', async () => {
      // Prepare
      const thirtyDays = 30 * 24 * 3600;
      const definition = { StartAt: 'KeepDelivery', States: { KeepDelivery: { Type: 'Wait', Seconds: thirtyDays, End: true } } };
      const run = compileDefinition(JSON.stringify(definition)).machine.run({}, { noThrowOnAbort: true });
      let ended = false;
      run.result.then(
        () => (ended = true),
        () => (ended = true),
      );

      // Act
      await jest.advanceTimersByTimeAsync(60 * 1000);

      // Assess
      expect(ended).toBe(false);
      run.abort();
    });
  });
});
