import { makeReportCalibrationFailureHandler } from '../lib/handlers/steps';
import { calibrationDependencies } from '../lib/runtime/dependencies';

export const handler = makeReportCalibrationFailureHandler(calibrationDependencies());
