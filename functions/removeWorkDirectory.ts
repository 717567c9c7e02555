import { makeRemoveWorkDirectoryHandler } from '../lib/handlers/steps';
import { clusterStepDependencies } from '../lib/runtime/dependencies';

export const handler = makeRemoveWorkDirectoryHandler(clusterStepDependencies());
