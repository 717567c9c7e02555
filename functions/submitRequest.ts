import { makeSubmitRequestHandler } from '../lib/handlers/submitRequest';
import { intakeDependencies } from '../lib/runtime/dependencies';

export const handler = makeSubmitRequestHandler(intakeDependencies());
