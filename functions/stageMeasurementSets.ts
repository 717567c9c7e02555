import { makeStageMeasurementSetsHandler } from '../lib/handlers/steps';
import { clusterStepDependencies } from '../lib/runtime/dependencies';

export const handler = makeStageMeasurementSetsHandler(clusterStepDependencies());
