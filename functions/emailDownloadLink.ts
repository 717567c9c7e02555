import { makeEmailDownloadLinkHandler } from '../lib/handlers/steps';
import { deliveryDependencies } from '../lib/runtime/dependencies';

export const handler = makeEmailDownloadLinkHandler(deliveryDependencies());
