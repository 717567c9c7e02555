/**
 * The state machine as a graph: every state reachable, every Task a function of serverless.yml, every
 * Retry on a transient error only, and every Task that can fail caught into a report to the maintainer.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { TRANSIENT_ERROR_NAMES } from '../../lib/errors';

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
const definition = yaml.load(fs.readFileSync(path.join(ROOT, 'statemachines/calms.asl.yml'), 'utf8')) as { StartAt: string; States: Record<string, State> };
const functions = Object.keys((yaml.load(fs.readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')) as { functions: object }).functions);
const states = Object.entries(definition.States);
const tasks = states.filter(([, state]) => state.Type === 'Task');
/** Tasks that report a failure: they retry everything and must not be caught (into themselves). */
const REPORTERS = ['NotifyMaintainerOfFailure', 'ReportCalibrationFailure'];

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

test('Tasks retry only transient errors; only the failure reports retry everything', () => {
  const allowed = new Set<string>([...TRANSIENT_ERROR_NAMES, 'Lambda.ServiceException', 'Lambda.TooManyRequestsException']);
  for (const [name, state] of tasks) {
    const retried = (state.Retry ?? []).flatMap((retry) => retry.ErrorEquals);
    if (REPORTERS.includes(name)) expect([name, retried]).toEqual([name, ['States.ALL']]);
    else expect([name, retried.filter((error) => !allowed.has(error))]).toEqual([name, []]);
  }
});

test('every other Task catches everything into a failure report, which ends in a Fail state', () => {
  for (const [name, state] of tasks.filter(([taskName]) => !REPORTERS.includes(taskName))) {
    expect([name, state.Catch?.map((handler) => [handler.ErrorEquals, REPORTERS.includes(handler.Next)])]).toEqual([name, [[['States.ALL'], true]]]);
  }
  for (const reporter of REPORTERS) {
    expect(definition.States[definition.States[reporter]!.Next!]!.Type).toBe('Fail');
  }
});
