/**
 * The event arithmetic of issue 16 on the definition and the AWS defaults: events per hour of waiting, times
 * 72 h for a slot and 48 h for the job, plus the rest of the execution, stays under 5,000.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { eventsOf, EXECUTION_EVENTS, HISTORY_EVENT_LIMIT, TARGET, targetEvents, waitingEvents } from '../../../bench/waitingFigures';
import { STATUS_MARGIN_MS } from '../../../lib/cluster/SshCluster';
import { VARIABLES } from '../../../lib/config';
import { reserveMs } from '../../../lib/invocation';

const ROOT = path.resolve(__dirname, '../../..');
type State = { Type: string; Next?: string; Default?: string; Choices?: { Next: string }[]; Resource?: { 'Fn::GetAtt': [string, string] } };
const definition = yaml.load(fs.readFileSync(path.join(ROOT, 'statemachines/calms.asl.yml'), 'utf8')) as {
  StartAt: string;
  States: Record<string, State>;
};
const functions = (yaml.load(fs.readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')) as { functions: Record<string, { timeout?: number }> })
  .functions;
const typeOf = (state: string) => definition.States[state]!.Type;
const next = (state: State) => [
  ...(state.Next ? [state.Next] : []),
  ...(state.Default ? [state.Default] : []),
  ...(state.Choices ?? []).map((choice) => choice.Next),
];

/** The shortest way from `from` back to itself (Next, Default, Choices), as the states passed. */
function loopOf(from: string): string[] {
  const paths: string[][] = [[from]];
  while (paths.length > 0) {
    const route = paths.shift()!;
    for (const successor of next(definition.States[route.at(-1)!]!)) {
      if (successor === from) return route;
      if (!route.includes(successor)) paths.push([...route, successor]);
    }
  }
  throw new Error(`${from} is in no loop`);
}

/** The states of the longest loop-free way from the start to `to` through `via`. */
function longestPathThrough(to: string, via: string): string[] {
  const walk = (state: string, seen: string[]): string[][] =>
    state === to
      ? [[...seen, to]]
      : seen.includes(state)
        ? []
        : next(definition.States[state]!).flatMap((successor) => walk(successor, [...seen, state]));
  return walk(definition.StartAt, [])
    .filter((route) => route.includes(via))
    .sort((a, b) => eventsOf(b, typeOf) - eventsOf(a, typeOf))[0]!;
}

const secondsOf = (name: keyof typeof VARIABLES) => Number((VARIABLES[name] as { default?: string }).default);
/** What a waiting function's invocation leaves for waiting: its timeout less the reserve for its answer. */
const waitingBudgetMs = (fn: string) => functions[fn]!.timeout! * 1000 - reserveMs(functions[fn]!.timeout! * 1000);

describe('history events of a request that waits 72 h for a slot and then runs a 48 h job, with the AWS defaults', () => {
  const step = secondsOf('CALMS_WAIT_STEP_SECONDS');
  const slotLoop = loopOf('WaitForStagingSlot');
  const jobLoop = loopOf('WaitForCalibrationJob');

  it('waits in loops of one Task and one Choice: 7 events per step', () => {
    // Assess
    expect(slotLoop).toEqual(['WaitForStagingSlot', 'IsStagingSlotAcquired']);
    expect(jobLoop).toEqual(['WaitForCalibrationJob', 'IsCalibrationJobRunning']);
    expect([eventsOf(slotLoop, typeOf), eventsOf(jobLoop, typeOf)]).toEqual([7, 7]);
  });

  it("waits the whole default step in each invocation: it fits in the functions' time with their reserve and the job's last look", () => {
    // Assess
    expect(step * 1000).toBeLessThanOrEqual(waitingBudgetMs('waitForStagingSlot'));
    expect(step * 1000).toBeLessThanOrEqual(
      waitingBudgetMs('waitForCalibrationJob') - secondsOf('CALMS_CLUSTER_CONNECT_TIMEOUT_SECONDS') * 1000 - STATUS_MARGIN_MS,
    );
  });

  it('writes fewer than 5,000 events in all', () => {
    // Prepare: everything else the longest calibrating execution passes once, plus its start and end.
    const route = longestPathThrough('Delivered', 'SubmitCalibrationJob');
    const otherEvents = eventsOf(route, typeOf) + EXECUTION_EVENTS;

    // Act
    const total = targetEvents({
      slotEventsPerStep: eventsOf(slotLoop, typeOf),
      jobEventsPerStep: eventsOf(jobLoop, typeOf),
      slotStepSeconds: step,
      jobStepSeconds: step,
      otherEvents,
    });

    // Assess: 309 slot steps and 206 job steps of 7 events, and the rest.
    expect(waitingEvents(TARGET.slotHours, step, 7)).toBe(2163);
    expect(waitingEvents(TARGET.jobHours, step, 7)).toBe(1442);
    expect(otherEvents).toBeLessThan(150);
    expect(total).toBeLessThan(TARGET.maxEvents);
  });

  it('would have failed with the old loops (a Wait state and 9 events every 30 s): the limit after about 23 h', () => {
    // Act
    const hoursToLimit = ((HISTORY_EVENT_LIMIT / 9) * 30) / 3600;

    // Assess
    expect(waitingEvents(TARGET.slotHours, 30, 9)).toBeGreaterThan(HISTORY_EVENT_LIMIT);
    expect(hoursToLimit).toBeCloseTo(23.1, 1);
  });
});
