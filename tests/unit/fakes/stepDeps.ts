import type { Archive } from '../../../lib/archive/Archive';
import type { StepDeps } from '../../../lib/processing/steps';
import { FakeArchive } from './archive';
import { InMemoryCancelMarks } from './cancelMarks';
import { RecordingLogger } from './logger';
import { RecordingMailer } from './mailer';
import { InMemorySentMailLedger } from './sentMailLedger';
import { fakeStagingQueue, InMemorySlotStore } from './slotStore';
import { InMemoryStatisticsStore } from './statisticsStore';
import { InMemoryTriggerStore } from './triggerStore';

/** AOG and the maintainer, as the seed names them. */
export const TEST_ADDRESSES = { aog: 'aog@eso.org', maintainer: 'dpetry@eso.org' } as const;

/**
 * What every processing step is given, all of it fakes, and the fakes themselves for the test to look into.
 * `clock` is asked at every use, so a test that moves it moves the steps and the staging queue with it.
 */
export function fakeStepDeps(clock: () => Date, archive: Archive = new FakeArchive({})) {
  const mailer = new RecordingMailer();
  const ledger = new InMemorySentMailLedger();
  const cancelMarks = new InMemoryCancelMarks();
  const statistics = new InMemoryStatisticsStore();
  const triggers = new InMemoryTriggerStore();
  const log = new RecordingLogger();
  const slots = new InMemorySlotStore(clock());
  const { queue, rules } = fakeStagingQueue({ store: slots, now: clock, log });
  const deps: StepDeps = { archive, triggers, mailer, ledger, cancelMarks, statistics, addresses: TEST_ADDRESSES, queue, now: clock, log };
  return { deps, mailer, ledger, cancelMarks, statistics, triggers, log, slots, rules };
}
