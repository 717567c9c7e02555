import { makeReplyToRequestHandler } from '../lib/handlers/steps';
import { stepDependencies } from '../lib/runtime/dependencies';

export const handler = makeReplyToRequestHandler(stepDependencies());
