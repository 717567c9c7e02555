import { makeQueueHandler } from '../lib/handlers/queue';
import { stagingQueue } from '../lib/runtime/dependencies';

export const handler = makeQueueHandler(stagingQueue());
