import type { Readable } from 'node:stream';

/**
 * Where the whole log of a failed calibration job is kept, with the request it belongs to, so the maintainer's
 * email need carry only its end. Implementations throw `StorageUnavailableError` when the store does not answer.
 */
export interface JobLogStore {
  /** Streams `log` in as the request's `name`, never holding the whole in memory; says where it went and its size. */
  store(requestId: string, name: string, log: Readable): Promise<{ readonly location: string; readonly bytes: number }>;
}
