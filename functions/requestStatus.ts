import { makeRequestStatusHandler } from '../lib/handlers/operations';
import { operationsDependencies } from '../lib/runtime/dependencies';

export const handler = makeRequestStatusHandler(operationsDependencies());
