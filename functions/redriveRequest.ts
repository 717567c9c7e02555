import { makeRedriveRequestHandler } from '../lib/handlers/operations';
import { operationsDependencies } from '../lib/runtime/dependencies';

export const handler = makeRedriveRequestHandler(operationsDependencies());
