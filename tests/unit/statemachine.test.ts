/**
 * The state machine as a graph: every state reachable, every Task a function of serverless.yml, every
 * Retry on a transient error only, and every Task that can fail caught into a report to the maintainer.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { FAILURE_REPORTS, REDRIVABLE_STATES, RESUME_POINTS } from '../../lib/domain/redrive';
import { FUNCTION_TIMEOUT_ERROR_NAMES, TRANSIENT_ERROR_NAMES } from '../../lib/errors';
import { localDefinition } from '../../localstack/cloud';
import { RELEASING_STATES } from '../releasingStates';

const ROOT = path.resolve(__dirname, '../..');
type State = {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Retry?: { ErrorEquals: string[] }[];
  Resource?: { 'Fn::GetAtt': [string, string] };
};
const definition = yaml.load(fs.readFileSync(path.join(ROOT, 'statemachines/calms.asl.yml'), 'utf8')) as {
  StartAt: string;
  States: Record<string, State>;
};
const functions = Object.keys((yaml.load(fs.readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')) as { functions: object }).functions);
const states = Object.entries(definition.States);
const tasks = states.filter(([, state]) => state.Type === 'Task');
/** Tasks that report a failure: they retry everything and must not be caught (into themselves). */
const REPORTERS = ['NotifyMaintainerOfFailure', 'ReportCalibrationFailure', 'NotifyMaintainerBriefly'];
/** What a report falls back to when it cannot be sent in full: the last resort, caught by nothing. */
const FALLBACK = 'NotifyMaintainerBriefly';

const successors = (state: State): string[] => [
  ...(state.Next ? [state.Next] : []),
  ...(state.Default ? [state.Default] : []),
  ...(state.Choices ?? []).map((choice) => choice.Next),
  ...(state.Catch ?? []).map((handler) => handler.Next),
];

test('every state is reachable from the start and every transition names a state', () => {
  const seen = new Set<string>();
  const queue = [definition.StartAt];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    expect(definition.States).toHaveProperty([name]);
    seen.add(name);
    queue.push(...successors(definition.States[name]!));
  }
  expect([...seen].sort()).toEqual(Object.keys(definition.States).sort());
});

test('every Task calls a function serverless.yml deploys, with a timeout of its own', () => {
  for (const [name, state] of tasks) {
    expect([name, functions.includes(state.Resource!['Fn::GetAtt'][0])]).toEqual([name, true]);
    expect([name, typeof (state as { TimeoutSeconds?: number }).TimeoutSeconds]).toEqual([name, 'number']);
  }
});

/** Steps that resume from the parts they left in S3, so a function that ran out of time may simply run again. */
const RESUMING = ['StageMeasurementSets', 'CopyStagedMeasurementSets'];

test('Tasks retry only transient errors, resuming steps a function timeout too; only the failure reports retry everything', () => {
  const transient = [...TRANSIENT_ERROR_NAMES, 'Lambda.ServiceException', 'Lambda.TooManyRequestsException'];
  for (const [name, state] of tasks) {
    const retried = (state.Retry ?? []).flatMap((retry) => retry.ErrorEquals);
    const allowed = new Set<string>(RESUMING.includes(name) ? [...transient, ...FUNCTION_TIMEOUT_ERROR_NAMES] : transient);
    if (REPORTERS.includes(name)) expect([name, retried]).toEqual([name, ['States.ALL']]);
    else expect([name, retried.filter((error) => !allowed.has(error))]).toEqual([name, []]);
  }
  for (const name of RESUMING) {
    const retried = (definition.States[name]!.Retry ?? []).flatMap((retry) => retry.ErrorEquals);
    expect([name, retried]).toEqual([name, expect.arrayContaining([...FUNCTION_TIMEOUT_ERROR_NAMES])]);
  }
  // Streaming from the cluster also outlives a node that did not answer for a while.
  expect(definition.States.StageMeasurementSets!.Retry!.flatMap((retry) => retry.ErrorEquals)).toContain('ClusterUnreachableError');
});

/** Its failure must not keep the data from the user: it is caught on to the email, with the error kept. */
const BEST_EFFORT = 'RemoveWorkDirectory';

test('every other Task catches everything into a failure report, which ends in a Fail state', () => {
  for (const [name, state] of tasks.filter(([taskName]) => !REPORTERS.includes(taskName) && taskName !== BEST_EFFORT)) {
    expect([name, state.Catch?.map((handler) => [handler.ErrorEquals, REPORTERS.includes(handler.Next)])]).toEqual([name, [[['States.ALL'], true]]]);
  }
  for (const reporter of REPORTERS) {
    expect(definition.States[definition.States[reporter]!.Next!]!.Type).toBe('Fail');
  }
});

test('a report that cannot be sent in full falls back to a short notice, keeping the failure it reports', () => {
  for (const reporter of REPORTERS.filter((name) => name !== FALLBACK)) {
    expect([reporter, definition.States[reporter]!.Catch]).toEqual([
      reporter,
      [{ ErrorEquals: ['States.ALL'], ResultPath: '$.reportFailure', Next: FALLBACK }],
    ]);
  }
  const fallback = definition.States[FALLBACK] as State & { Parameters: Record<string, string> };
  expect(fallback.Catch).toBeUndefined();
  expect(fallback.Parameters).toEqual({ 'request.$': '$.request', 'failure.$': '$.failure', 'reportFailure.$': '$.reportFailure' });
  expect(definition.States[fallback.Next!]!.Type).toBe('Fail');
});

test('removing the work directory is best effort: its failure is recorded and the user is still emailed', () => {
  const state = definition.States[BEST_EFFORT] as State & { Catch: { ErrorEquals: string[]; Next: string; ResultPath: string }[] };
  expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.workDirectory', Next: 'EmailDownloadLink' }]);
  expect(state.Next).toBe('EmailDownloadLink');
});

/** Every path from `from` to `to` that follows Next, Default and Choices (not Catch), as lists of state names. */
function pathsBetween(from: string, to: string, seen: string[] = []): string[][] {
  if (from === to) return [[...seen, to]];
  if (seen.includes(from)) return [];
  const state = definition.States[from]!;
  const next = [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...(state.Choices ?? []).map((choice) => choice.Next),
  ];
  return next.flatMap((name) => pathsBetween(name, to, [...seen, from]));
}

test('an entitled request is delivered by re-use, without the cluster, or by calibrating and staging (or only staging, re-driven)', () => {
  // From where IsUserEntitled sends a new request; a re-drive's jumps past the look-up are tested below.
  const paths = pathsBetween('LookForStagedMeasurementSets', 'Delivered').map((names) =>
    names.filter((name) => definition.States[name]!.Type === 'Task'),
  );
  const reuse = paths.filter((names) => names.includes('CopyStagedMeasurementSets'));
  const calibrate = paths.filter((names) => names.includes('SubmitCalibrationJob'));
  const restage = paths.filter((names) => names.includes('StageMeasurementSets') && !names.includes('SubmitCalibrationJob'));
  expect(reuse.length + calibrate.length + restage.length).toBe(paths.length);
  for (const names of restage) {
    expect(names.filter((name) => name !== 'RemoveWorkDirectory')).toEqual([
      'LookForStagedMeasurementSets',
      'AcquireStagingSlot',
      'StageMeasurementSets',
      'ReleaseStagingSlot',
      'PublishDelivery',
      'EmailDownloadLink',
    ]);
  }
  // Structurally either path may pass RemoveWorkDirectory; WasCalibratedOnCluster (below) sends only calibrations there.
  const withoutCleanup = (names: string[]) => names.filter((name) => name !== 'RemoveWorkDirectory');
  expect(reuse.map(withoutCleanup)).toContainEqual([
    'LookForStagedMeasurementSets',
    'CopyStagedMeasurementSets',
    'PublishDelivery',
    'EmailDownloadLink',
  ]);
  for (const names of reuse) expect(names).not.toContain('ChooseClusterNode');
  for (const names of calibrate) {
    expect(withoutCleanup(names)).toEqual([
      'LookForStagedMeasurementSets',
      'AcquireStagingSlot',
      'ChooseClusterNode',
      'SubmitCalibrationJob',
      'WaitForCalibrationJob',
      'CheckCalibrationJob',
      'StageMeasurementSets',
      'ReleaseStagingSlot',
      'PublishDelivery',
      'EmailDownloadLink',
    ]);
  }
  expect(definition.States.WasCalibratedOnCluster).toMatchObject({
    Choices: [{ Variable: '$.staging.reused', BooleanEquals: false, Next: 'RemoveWorkDirectory' }],
    Default: 'EmailDownloadLink',
  });
  expect(calibrate.length).toBeGreaterThan(0);
});

test('staging loops on itself until the transfer reports complete', () => {
  for (const [task, choice, then] of [
    ['StageMeasurementSets', 'AreMeasurementSetsStaged', 'ReleaseStagingSlot'],
    ['CopyStagedMeasurementSets', 'AreStagedMeasurementSetsCopied', 'PublishDelivery'],
  ] as const) {
    expect(definition.States[task]!.Next).toBe(choice);
    expect(definition.States[choice]).toMatchObject({
      Choices: [{ Variable: '$.staging.complete', BooleanEquals: false, Next: task }],
      Default: then,
    });
  }
});

test('a request waits for a staging slot in a loop the history shows, and takes the cluster only with one', () => {
  expect(definition.States.AcquireStagingSlot!.Next).toBe('IsStagingSlotAcquired');
  expect(definition.States.IsStagingSlotAcquired).toMatchObject({
    Choices: [{ Variable: '$.slot.acquired', BooleanEquals: true, Next: 'AreMeasurementSetsCalibrated' }],
    Default: 'WaitForStagingSlot',
  });
  // The wait is a step of its own, asking again and again until it has a slot: a loop of two states.
  expect(definition.States.WaitForStagingSlot).toMatchObject({ Type: 'Task', ResultPath: '$.slot', Next: 'IsStagingSlotAcquired' });
  // Only a re-driven staging carries its calibration's progress this far; everything else calibrates.
  expect(definition.States.AreMeasurementSetsCalibrated).toMatchObject({
    Choices: [{ Variable: '$.calibrationProgress', IsPresent: true, Next: 'StageMeasurementSets' }],
    Default: 'ChooseClusterNode',
  });
  const intoCluster = Object.entries(definition.States).filter(([, state]) => successors(state).includes('ChooseClusterNode'));
  expect(intoCluster.map(([name]) => name)).toEqual(['AreMeasurementSetsCalibrated']);
  const intoStaging = Object.entries(definition.States).filter(([, state]) => successors(state).includes('StageMeasurementSets'));
  expect(intoStaging.map(([name]) => name).sort()).toEqual(['AreMeasurementSetsCalibrated', 'AreMeasurementSetsStaged', 'CheckCalibrationJob']);
});

test('an execution starts with the request email; a re-drive decides the entitlement again before it resumes', () => {
  expect(definition.StartAt).toBe('IsRedriven');
  expect(definition.States.IsRedriven).toMatchObject({
    Choices: [{ Variable: '$.redrive', IsPresent: true, Next: 'ResumeWhereItFailed' }],
    Default: 'EmailRequestToAog',
  });
  expect(definition.States.ResumeWhereItFailed).toMatchObject({
    Choices: [{ Variable: '$.redrive.resumeAt', StringEquals: 'EmailRequestToAog', Next: 'EmailRequestToAog' }],
    Default: 'CheckEntitlement',
  });
  const resume = definition.States.ResumeAfterEntitlement as State & { Choices: { Variable: string; StringEquals: string; Next: string }[] };
  for (const choice of resume.Choices) expect(choice).toEqual({ Variable: '$.redrive.resumeAt', StringEquals: choice.Next, Next: choice.Next });
  // EmailRequestToAog, CheckEntitlement and IsUserEntitled are where every re-drive passes anyway.
  const beforeTheJump = ['EmailRequestToAog', 'CheckEntitlement', 'IsUserEntitled'];
  expect([...beforeTheJump, ...resume.Choices.map((choice) => choice.Next), resume.Default].sort()).toEqual([...RESUME_POINTS].sort());
});

test('no execution reaches staging, a copy, a publication or the download email without CheckEntitlement, whatever its input', () => {
  // Every state reachable from the start when CheckEntitlement is taken out of the graph.
  const seen = new Set<string>();
  const queue = [definition.StartAt];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name) || name === 'CheckEntitlement') continue;
    seen.add(name);
    queue.push(...successors(definition.States[name]!));
  }
  expect(RELEASING_STATES.filter((name) => seen.has(name))).toEqual([]);
  expect(RELEASING_STATES.every((name) => name in definition.States)).toBe(true);
});

test('IsUserEntitled sends only the explicit ENTITLED towards staging; no outcome, or an unknown one, goes to the maintainer', () => {
  const decide = definition.States.IsUserEntitled as unknown as { Choices: Record<string, unknown>[]; Default: string };
  const towardsRelease = decide.Choices.filter(
    (choice) => choice.Next === 'LookForStagedMeasurementSets' || choice.Next === 'ResumeAfterEntitlement',
  );
  for (const choice of towardsRelease) {
    const rules = 'And' in choice ? (choice.And as Record<string, unknown>[]) : [{ Variable: choice.Variable, StringEquals: choice.StringEquals }];
    expect(rules).toContainEqual({ Variable: '$.entitlement.outcome', StringEquals: 'ENTITLED' });
  }
  expect(decide.Default).toBe('EntitlementUndecided');
  expect(definition.States.EntitlementUndecided).toMatchObject({ Type: 'Pass', ResultPath: '$.failure', Next: 'NotifyMaintainerOfFailure' });
});

test('an execution stopped, timed out or failed outside a Catch in any working state can be re-driven from it', () => {
  const onTheWayOut = new Set<string>(FAILURE_REPORTS);
  const working = states.filter(([name, state]) => state.Type !== 'Succeed' && state.Type !== 'Fail' && !onTheWayOut.has(name)).map(([name]) => name);
  expect(working.filter((name) => !REDRIVABLE_STATES.includes(name))).toEqual([]);
});

test('the definition is valid Amazon States Language (asl-validator), with its Lambda references as the ARNs they become', () => {
  // asl-validator ships no types.
  const validate = require('asl-validator') as (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };

  // Act
  const { isValid, errorsText } = validate(JSON.parse(localDefinition('ci')));

  // Assess
  expect(errorsText('\n')).toBe('');
  expect(isValid).toBe(true);
});

test('asl-validator refuses a definition that is not valid (so the test above can fail)', () => {
  const validate = require('asl-validator') as (definition: unknown) => { isValid: boolean };
  const broken = JSON.parse(localDefinition('ci'));
  broken.States[broken.StartAt].Type = 'Job';
  expect(validate(broken).isValid).toBe(false);
});
