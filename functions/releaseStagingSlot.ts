import { makeReleaseStagingSlotHandler } from '../lib/handlers/steps';
import { stepDependencies } from '../lib/runtime/dependencies';

export const handler = makeReleaseStagingSlotHandler(stepDependencies());
