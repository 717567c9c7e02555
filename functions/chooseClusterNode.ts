import { makeChooseClusterNodeHandler } from '../lib/handlers/steps';
import { calibrationDependencies } from '../lib/runtime/dependencies';

export const handler = makeChooseClusterNodeHandler(calibrationDependencies());
