import { makeSubmitCalibrationJobHandler } from '../lib/handlers/steps';
import { clusterStepDependencies } from '../lib/runtime/dependencies';

export const handler = makeSubmitCalibrationJobHandler(clusterStepDependencies());
