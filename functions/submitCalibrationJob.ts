import { makeSubmitCalibrationJobHandler } from '../lib/handlers/steps';
import { calibrationDependencies } from '../lib/runtime/dependencies';

export const handler = makeSubmitCalibrationJobHandler(calibrationDependencies());
