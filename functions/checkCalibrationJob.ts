import { makeCheckCalibrationJobHandler } from '../lib/handlers/steps';
import { calibrationDependencies } from '../lib/runtime/dependencies';

export const handler = makeCheckCalibrationJobHandler(calibrationDependencies());
