/**
 * One grep follows a request: every line written while a step runs carries the request's keys, the lines of
 * adapters built once per container included, and invocations running at once keep their own keys.
 */
import { makeAcquireStagingSlotHandler } from '../../lib/handlers/steps';
import { createLogger, withLogKeys } from '../../lib/log';
import type { StepDeps } from '../../lib/processing/steps';
import type { StagingQueue } from '../../lib/slots/StagingQueue';
import { seedMousRequest } from './fakes';

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger({ service: 'calms' }, (line) => lines.push(JSON.parse(line)), 'debug') };
}

describe('log keys of an invocation', () => {
  it("are on every line written during it, after the logger's own keys and before the line's", async () => {
    // Prepare
    const { lines, logger } = capture();
    const adapterLog = logger.with({ adapter: 'ssh' });

    // Act
    await withLogKeys({ requestId: 'r1', ticket: '16140' }, async () => {
      await Promise.resolve();
      adapterLog.info('connected');
      logger.info('explicit', { ticket: 'from the line' });
    });
    logger.info('outside');

    // Assess
    expect(lines.map(({ time: _time, ...line }) => line)).toEqual([
      { level: 'info', message: 'connected', service: 'calms', adapter: 'ssh', requestId: 'r1', ticket: '16140' },
      { level: 'info', message: 'explicit', service: 'calms', requestId: 'r1', ticket: 'from the line' },
      { level: 'info', message: 'outside', service: 'calms' },
    ]);
  });

  it('stay apart for invocations that run at once in one process', async () => {
    // Prepare
    const { lines, logger } = capture();
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const work = (requestId: string) =>
      withLogKeys({ requestId }, async () => {
        for (let step = 0; step < 3; step += 1) {
          await tick();
          logger.info(`step ${step} of ${requestId}`);
        }
      });

    // Act
    await Promise.all([work('a'), work('b')]);

    // Assess
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(String(line.message).endsWith(` of ${line.requestId}`)).toBe(true);
  });

  it("are the request's id, ticket and MOUS for a state machine step, on its adapters' lines too", async () => {
    // Prepare
    const { lines, logger } = capture();
    const request = seedMousRequest();
    const queue = {
      acquire: async () => {
        logger.info('slot store read');
        return { acquired: true, leaseUntil: 'soon' };
      },
    } as unknown as StagingQueue;
    const handler = makeAcquireStagingSlotHandler({ queue, log: logger } as unknown as StepDeps);

    // Act
    await handler({ request });

    // Assess
    expect(lines).toEqual([
      expect.objectContaining({ message: 'slot store read', requestId: request.requestId, ticket: '16140', mous: request.mous }),
    ]);
  });
});
