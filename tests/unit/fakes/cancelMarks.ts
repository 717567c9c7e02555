import type { CancelMarks } from '../../../lib/storage/CancelMarks';

/** An in-memory `CancelMarks`. */
export class InMemoryCancelMarks implements CancelMarks {
  readonly marked = new Set<string>();

  async mark(requestId: string, _at: Date): Promise<void> {
    this.marked.add(requestId);
  }

  async isMarked(requestId: string): Promise<boolean> {
    return this.marked.has(requestId);
  }
}
