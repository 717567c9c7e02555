import { makeWaitForStagingSlotHandler } from '../lib/handlers/steps';
import { stepDependencies } from '../lib/runtime/dependencies';

export const handler = makeWaitForStagingSlotHandler(stepDependencies());
