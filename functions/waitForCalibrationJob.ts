import { makeWaitForCalibrationJobHandler } from '../lib/handlers/steps';
import { clusterStepDependencies } from '../lib/runtime/dependencies';

export const handler = makeWaitForCalibrationJobHandler(clusterStepDependencies());
