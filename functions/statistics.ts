import { makeStatisticsHandler } from '../lib/handlers/operations';
import { operationsDependencies } from '../lib/runtime/dependencies';

export const handler = makeStatisticsHandler(operationsDependencies());
