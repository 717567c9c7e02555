/**
 * The mark a cancel leaves before it stops an execution. Stopping does not stop a Lambda already running, and
 * such a step may open an upload or submit a job that the cancel cannot see in the history: it looks for the
 * mark and undoes its own work.
 */
export interface CancelMarks {
  /** `at`: when the cancel began, kept for whoever looks into the bucket. */
  mark(requestId: string, at: Date): Promise<void>;
  isMarked(requestId: string): Promise<boolean>;
}
