import { makeWatchExecutionEndHandler } from '../lib/handlers/executionEnd';
import { logger } from '../lib/log';
import { cancelDependencies } from '../lib/runtime/dependencies';

// What a cancel needs is what cleaning up after an end needs: the executions, the cluster, the slots, S3 and mail.
export const handler = makeWatchExecutionEndHandler(cancelDependencies(), logger);
