import { makeNotifyMaintainerOfFailureHandler } from '../lib/handlers/steps';
import { stepDependencies } from '../lib/runtime/dependencies';

export const handler = makeNotifyMaintainerOfFailureHandler(stepDependencies());
