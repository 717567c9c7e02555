import { makeDownloadHandler } from '../lib/handlers/downloads';
import { downloadDependencies } from '../lib/runtime/dependencies';

export const handler = makeDownloadHandler(downloadDependencies());
