/** The console's steps table folds loops: rounds of the same states one after another become one row. */
import { foldSteps, lastVisit, type Step, type StepStatus } from '../../../localstack/console/model';

const CHOICES = new Set(['IsStagingSlotAcquired', 'IsJobDone']);

function steps(names: readonly string[], changes: Record<number, Partial<Step>> = {}): Step[] {
  return names.map((name, position) => ({
    index: position + 1,
    name,
    type: CHOICES.has(name) ? 'Choice' : 'Task',
    enteredAt: new Date(1_800_000_000_000 + position * 1000),
    endedAt: new Date(1_800_000_000_000 + position * 1000 + 900),
    errors: [],
    attempts: CHOICES.has(name) ? 0 : 1,
    status: 'succeeded' as StepStatus,
    ...changes[position + 1],
  }));
}

/** Each row as `name`, or `name ×rounds (states)` for a folded loop, with the index of its first step. */
function rows(folded: ReturnType<typeof foldSteps>): string[] {
  return folded.map((group) =>
    group.loop
      ? `${group.first}: ${group.loop.states[0]} ×${group.loop.rounds} (${group.loop.states.join(' → ')})`
      : `${group.first}: ${group.steps[0]!.name}`,
  );
}

const WAIT = ['WaitForStagingSlot', 'IsStagingSlotAcquired'];
const rounds = (round: readonly string[], times: number) => Array.from({ length: times }, () => round).flat();

describe('foldSteps', () => {
  it('folds the wait for a staging slot into one row named after the wait, the Choice leading into it keeping its own row', () => {
    const folded = foldSteps(
      steps(['CheckEntitlement', 'AcquireStagingSlot', 'IsStagingSlotAcquired', ...rounds(WAIT, 179), 'StageMeasurementSets']),
    );
    expect(rows(folded)).toEqual([
      '1: CheckEntitlement',
      '2: AcquireStagingSlot',
      '3: IsStagingSlotAcquired',
      '4: WaitForStagingSlot ×179 (WaitForStagingSlot → IsStagingSlotAcquired)',
      '362: StageMeasurementSets',
    ]);
    expect(folded[3]!.steps).toHaveLength(358);
  });

  it('folds a loop of three states and one state repeated on its own', () => {
    const poll = ['WaitForJob', 'CheckJob', 'IsJobDone'];
    expect(rows(foldSteps(steps(['SubmitJob', ...rounds(poll, 4), 'Retry', 'Retry', 'Retry'])))).toEqual([
      '1: SubmitJob',
      '2: WaitForJob ×4 (WaitForJob → CheckJob → IsJobDone)',
      '14: Retry ×3 (Retry)',
    ]);
  });

  it('leaves a state visited once, or a round made once, unfolded', () => {
    expect(rows(foldSteps(steps(['A', 'B', 'C', 'A', 'B', 'D'])))).toEqual(['1: A', '2: B', '3: C', '4: A', '5: B', '6: D']);
  });

  it('keeps a step with a retried error, and the step going on, out of the loop, so that they show', () => {
    const names = ['AcquireStagingSlot', ...rounds(WAIT, 5), 'WaitForStagingSlot'];
    const retried = { errors: [{ error: 'StorageUnavailableError', at: new Date() }], attempts: 2 };
    const folded = foldSteps(steps(names, { 6: retried, 12: { status: 'running', endedAt: undefined } }));
    expect(rows(folded)).toEqual([
      '1: AcquireStagingSlot',
      '2: WaitForStagingSlot ×2 (WaitForStagingSlot → IsStagingSlotAcquired)',
      '6: WaitForStagingSlot',
      '7: IsStagingSlotAcquired',
      '8: WaitForStagingSlot ×2 (WaitForStagingSlot → IsStagingSlotAcquired)',
      '12: WaitForStagingSlot',
    ]);
  });

  it('prefers the loop that covers the most steps', () => {
    // A A B A A B: period 3 covers all six; period 1 only two.
    expect(rows(foldSteps(steps(['A', 'A', 'B', 'A', 'A', 'B'])))).toEqual(['1: A ×2 (A → A → B)']);
  });
});

describe('lastVisit', () => {
  it('is the last step in a state, or undefined for a state not visited', () => {
    const all = steps(['AcquireStagingSlot', ...rounds(WAIT, 3)]);
    expect(lastVisit(all, 'WaitForStagingSlot')?.index).toBe(6);
    expect(lastVisit(all, 'Delivered')).toBeUndefined();
  });
});
