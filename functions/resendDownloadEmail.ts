import { makeResendDownloadEmailHandler } from '../lib/handlers/operations';
import { operationsDependencies } from '../lib/runtime/dependencies';

export const handler = makeResendDownloadEmailHandler(operationsDependencies());
