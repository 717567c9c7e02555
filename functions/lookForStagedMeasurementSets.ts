import { makeLookForStagedMeasurementSetsHandler } from '../lib/handlers/steps';
import { deliveryDependencies } from '../lib/runtime/dependencies';

export const handler = makeLookForStagedMeasurementSetsHandler(deliveryDependencies());
