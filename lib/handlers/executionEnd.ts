/**
 * The execution-end watcher's Lambda, the target of serverless.yml's EventBridge rule. Thin: it checks that the
 * event is a Step Functions status change and hands it to lib/operations/watchExecutionEnd.ts. It does not catch:
 * a failure (Step Functions, S3 or SMTP away) fails the invocation, and Lambda's asynchronous retries run it again.
 */
import { attemptOf } from '../domain/redrive';
import { requestLogKeys, ticketAndMousOf } from '../domain/request';
import { type LogKeys, type Logger, withLogKeys } from '../log';
import { isExecutionStatusChange, type WatchDeps, watchExecutionEnd, type WatchOutcome } from '../operations/watchExecutionEnd';

function logKeysOf(name: unknown): LogKeys {
  if (typeof name !== 'string') return {};
  const { requestId } = attemptOf(name);
  const parts = ticketAndMousOf(requestId);
  return parts ? { ...requestLogKeys({ requestId, ...parts }), execution: name } : { execution: name };
}

export const makeWatchExecutionEndHandler =
  (deps: () => Promise<WatchDeps>, log: Logger) =>
  async (event: unknown): Promise<WatchOutcome> => {
    if (!isExecutionStatusChange(event)) {
      log.warn('the execution-end watcher was called with something else than a Step Functions status change; ignored');
      return { action: 'ignored', reason: 'not a Step Functions Execution Status Change event' };
    }
    const ready = await deps();
    return withLogKeys(logKeysOf(event.detail?.name), () => watchExecutionEnd(ready, event));
  };
