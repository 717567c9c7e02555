import type { APIGatewayProxyResult } from 'aws-lambda';
import type { StagingQueue } from '../slots/StagingQueue';
import { json } from './http';

/** `GET /queue`: who holds the staging slots and who waits, in order (`calms queue`). */
export function makeQueueHandler(queue: StagingQueue) {
  return async (): Promise<APIGatewayProxyResult> => json(200, await queue.view());
}
