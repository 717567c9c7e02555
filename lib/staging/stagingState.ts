/** What staging carries from one step to the next, and the clean-up of a staging that will not go on. */
import type { Logger } from '../log';
import type { DeliveryStore } from '../storage/DeliveryStore';
import type { Staging } from './transfer';

/** What the state machine carries between the staging steps: the transfer, and whether it re-uses earlier MSs. */
export interface StagingState extends Staging {
  readonly reused: boolean;
}

/**
 * After a failure: discards the multipart uploads that had begun but not completed, so no parts stay behind
 * (the lifecycle rule would discard them after two days anyway). Completed tarballs stay for investigation.
 */
export async function abortUnfinishedUploads(deps: { readonly store: DeliveryStore; readonly log: Logger }, staging: StagingState): Promise<void> {
  for (const tarball of staging.tarballs) {
    if (tarball.uploadId && !tarball.result) {
      await deps.store.abortUpload(tarball.key, tarball.uploadId);
      deps.log.warn('unfinished tarball upload aborted', { tarball: tarball.key });
    }
  }
}
