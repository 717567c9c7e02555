/**
 * Issue 16, item 3: what waiting costs, with the AWS defaults. Two requests and one staging slot: A calibrates,
 * B waits for A's slot and then calibrates too. From their histories and the stand-in casa's journal:
 *
 *   - history events: events per waiting step, measured, projected onto 72 h of waiting for a slot and a 48 h job
 *     at the AWS step (CALMS_WAIT_STEP_SECONDS); the target is fewer than 5,000;
 *   - staging start: from the job's end (casa's last word) to StageMeasurementSets; target at most 10 s;
 *   - hand-over: from A's ReleaseStagingSlot to B's slot; target at most 10 s.
 *
 * The looks are the AWS defaults (slots every CALMS_STAGING_SLOT_WAIT_SECONDS, the job every
 * CALMS_CLUSTER_POLL_SECONDS); the step is scaled down from 840 s to 30 s, so a run of minutes has several steps to
 * count. Events per step do not depend on the step's length, and a shorter step hands over more often, so the
 * latencies measured are if anything longer than with 840 s steps.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { VARIABLES } from '../lib/config';
import { CASA_JOURNAL } from '../localstack/cluster/emulatedCluster';
import type { Benchmark, BenchmarkContext, BenchmarkReport } from './benchmark';
import { executionHistory, finished, submit } from './requests';
import { HISTORY_EVENT_LIMIT, TARGET, targetEvents, waitingEvents } from './waitingFigures';

const awsDefault = (name: keyof typeof VARIABLES) => (VARIABLES[name] as { default?: string }).default!;
const AWS_STEP_SECONDS = Number(awsDefault('CALMS_WAIT_STEP_SECONDS'));
const SCALED_STEP_SECONDS = 30;
const JOB_SECONDS = 150;
const TARGET_SECONDS = 10;
const MOUS = ['uid___A001_X3a1_X301', 'uid___A001_X3a1_X302'];

interface Run {
  readonly executionArn: string;
  readonly events: HistoryEvent[];
}

const atOf = (event: HistoryEvent) => event.timestamp!.getTime();
const entered = (events: readonly HistoryEvent[], state: string) =>
  events.filter((event) => event.type?.endsWith('StateEntered') && event.stateEnteredEventDetails?.name === state);
const exited = (events: readonly HistoryEvent[], state: string) =>
  events.filter((event) => event.type?.endsWith('StateExited') && event.stateExitedEventDetails?.name === state);

/** A waiting loop in a history: its steps, the events from its first step's start to its last step's end, and how long full steps took. */
function loopOf(events: readonly HistoryEvent[], step: string, choice: string): { steps: number; events: number; fullStepSeconds: number[] } {
  const starts = entered(events, step);
  const last = exited(events, choice).at(-1);
  if (starts.length === 0 || !last) return { steps: 0, events: 0, fullStepSeconds: [] };
  const from = events.indexOf(starts[0]!);
  const to = events.indexOf(last);
  // Every step but the last waited its whole length; the last ended when the slot or the job's end came.
  const fullStepSeconds = starts.slice(1).map((start, index) => (atOf(start) - atOf(starts[index]!)) / 1000);
  return { steps: starts.length, events: to - from + 1, fullStepSeconds };
}

/** When the stand-in casa of `mous` finished, from the cluster's journal (epoch ms). */
function casaEnd(context: BenchmarkContext, mous: string): number {
  const journal = fs.readFileSync(path.join(context.env.CALMS_STATE_DIR!, 'cluster', CASA_JOURNAL), 'utf8');
  const end = journal
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, event, uid]) => event === 'end' && uid === mous)
    .at(-1);
  if (!end) throw new Error(`the casa journal has no end of ${mous}`);
  return Date.parse(end[0]!);
}

async function runOf(context: BenchmarkContext, executionArn: string): Promise<Run> {
  await finished(context, executionArn);
  return { executionArn, events: await executionHistory(context, executionArn) };
}

const seconds = (value: number) => value.toFixed(1);

export const waitingBenchmark: Benchmark = {
  name: 'waiting',
  title: `history events and hand-overs of waiting, AWS-default looks, ${SCALED_STEP_SECONDS} s steps (${AWS_STEP_SECONDS} s on AWS)`,
  cloudEnv: {
    CALMS_STAGING_SLOTS: '1',
    CALMS_STAGING_SLOT_WAIT_SECONDS: awsDefault('CALMS_STAGING_SLOT_WAIT_SECONDS'),
    CALMS_CLUSTER_POLL_SECONDS: awsDefault('CALMS_CLUSTER_POLL_SECONDS'),
    CALMS_WAIT_STEP_SECONDS: String(SCALED_STEP_SECONDS),
    CALMS_CASA_EMULATOR_SECONDS: String(JOB_SECONDS),
    CALMS_CASA_EMULATOR_BYTES: '65536',
    CALMS_CASA_EMULATOR_CALIBRATOR_BYTES: '65536',
  },
  async run(context): Promise<BenchmarkReport> {
    const first = await submit(context, MOUS[0]!, ['J1337-1257']);
    // B arrives once A holds the slot, and waits for all of A's job and staging.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const second = await submit(context, MOUS[1]!, ['J1337-1257']);
    const [a, b] = await Promise.all([runOf(context, first), runOf(context, second)]);

    const slotLoop = loopOf(b.events, 'WaitForStagingSlot', 'IsStagingSlotAcquired');
    const jobLoops = [a, b].map((run) => loopOf(run.events, 'WaitForCalibrationJob', 'IsCalibrationJobRunning'));
    if (slotLoop.steps < 2 || jobLoops.some((loop) => loop.steps < 2)) throw new Error('too few waiting steps to measure: lengthen the job');
    const slotPerStep = slotLoop.events / slotLoop.steps;
    const jobPerStep = jobLoops[1]!.events / jobLoops[1]!.steps;
    const otherEvents = b.events.length - slotLoop.events - jobLoops[1]!.events;
    const projected = targetEvents({
      slotEventsPerStep: slotPerStep,
      jobEventsPerStep: jobPerStep,
      slotStepSeconds: AWS_STEP_SECONDS,
      jobStepSeconds: AWS_STEP_SECONDS,
      otherEvents,
    });
    const fullSteps = [...slotLoop.fullStepSeconds, ...jobLoops.flatMap((loop) => loop.fullStepSeconds)];

    const stagingStarts = [a, b].map((run, index) => (atOf(entered(run.events, 'StageMeasurementSets')[0]!) - casaEnd(context, MOUS[index]!)) / 1000);
    const released = atOf(entered(a.events, 'ReleaseStagingSlot')[0]!);
    const acquired = atOf(exited(b.events, 'WaitForStagingSlot').at(-1)!);
    const handOver = (acquired - released) / 1000;
    const stagingStart = Math.max(...stagingStarts);

    return {
      columns: ['figure', 'measured', 'target'],
      rows: [
        [`history events: 72 h for a slot + 48 h job, ${AWS_STEP_SECONDS} s steps`, String(projected), `< ${TARGET.maxEvents}`],
        ['  slot-wait events per step (B)', slotPerStep.toFixed(1), ''],
        ['  job-wait events per step (B)', jobPerStep.toFixed(1), ''],
        ["  other events of B's execution", String(otherEvents), ''],
        ["staging start after the job's end, s (A, B)", stagingStarts.map(seconds).join(', '), `<= ${TARGET_SECONDS}`],
        ['hand-over of the freed slot, s', seconds(handOver), `<= ${TARGET_SECONDS}`],
        [
          `before: a Wait state, 9 events every 30 s, 72 h + 48 h`,
          String(waitingEvents(TARGET.slotHours + TARGET.jobHours, 30, 9)),
          `limit ${HISTORY_EVENT_LIMIT}`,
        ],
      ],
      notes: [
        `A job of ${JOB_SECONDS} s of stand-in casa, one slot: B waited ${slotLoop.steps} slot steps, the two jobs ${jobLoops.map((loop) => loop.steps).join(' and ')} job steps.`,
        `Full steps took ${seconds(Math.min(...fullSteps))}–${seconds(Math.max(...fullSteps))} s for ${SCALED_STEP_SECONDS} s configured: a step costs its events whatever its length, so ${AWS_STEP_SECONDS} s steps ` +
          `write ${((slotPerStep * 3600) / AWS_STEP_SECONDS).toFixed(1)} events per hour of waiting for a slot and ${((jobPerStep * 3600) / AWS_STEP_SECONDS).toFixed(1)} per hour of a job.`,
        "Staging start runs from the stand-in casa's end (before the job checksums its tarballs) to StageMeasurementSets entered; hand-over from " +
          'ReleaseStagingSlot entered (A) to WaitForStagingSlot left with the slot (B): both err long.',
        `"Before" is the arithmetic of the old loop (WaitForStagingSlot a Wait state of 30 s): Step Functions stops such an execution at ${HISTORY_EVENT_LIMIT} events.`,
      ],
      targets: [
        { criterion: `history events < ${TARGET.maxEvents}`, measured: String(projected), met: projected < TARGET.maxEvents },
        {
          criterion: `staging start <= ${TARGET_SECONDS} s after the job's end`,
          measured: `${seconds(stagingStart)} s`,
          met: stagingStart <= TARGET_SECONDS,
        },
        { criterion: `freed slot taken <= ${TARGET_SECONDS} s`, measured: `${seconds(handOver)} s`, met: handOver <= TARGET_SECONDS },
      ],
    };
  },
};
