import { makeCancelRequestHandler } from '../lib/handlers/operations';
import { logger } from '../lib/log';
import { cancelDependencies } from '../lib/runtime/dependencies';

export const handler = makeCancelRequestHandler(cancelDependencies(), logger);
