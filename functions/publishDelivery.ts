import { makePublishDeliveryHandler } from '../lib/handlers/steps';
import { deliveryDependencies } from '../lib/runtime/dependencies';

export const handler = makePublishDeliveryHandler(deliveryDependencies());
