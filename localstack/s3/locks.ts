/**
 * The edge's locks. Every client reaches s3rver through the edge, so serialising here is enough to make
 * s3rver's in-place, check-then-act operations atomic.
 *
 * - `KeyLocks`: one request at a time per object key (reads included: s3rver writes objects in place). An
 *   operation on two keys (CopyObject, UploadPartCopy's source) takes them in sorted order, so two such
 *   operations cannot wait for each other.
 * - `UploadLocks`: per multipart upload, shared by part uploads (which run in parallel) and ListParts,
 *   exclusive for CompleteMultipartUpload and AbortMultipartUpload, so that a part never lands in an upload
 *   being completed or removed (s3rver would re-create the removed directory). First come, first served.
 *
 * Order, to stay free of deadlocks: key locks first (sorted), then at most one upload lock.
 */

export type Release = () => void;

function once(release: () => void): Release {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    release();
  };
}

export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Waits for `key` and holds it until the returned function is called (calling it again does nothing). */
  async acquire(key: string): Promise<Release> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const chain = previous.then(() => mine);
    this.tails.set(key, chain);
    await previous;
    return once(() => {
      release();
      if (this.tails.get(key) === chain) this.tails.delete(key);
    });
  }

  /** Holds every one of `keys` (duplicates allowed), taken in sorted order. */
  async acquireAll(keys: readonly string[]): Promise<Release> {
    const releases: Release[] = [];
    for (const key of [...new Set(keys)].sort()) releases.push(await this.acquire(key));
    return once(() => {
      for (const release of releases.reverse()) release();
    });
  }
}

interface UploadLockState {
  readers: number;
  writer: boolean;
  readonly queue: { readonly exclusive: boolean; readonly grant: () => void }[];
}

export class UploadLocks {
  private readonly states = new Map<string, UploadLockState>();

  async acquire(upload: string, exclusive: boolean): Promise<Release> {
    let state = this.states.get(upload);
    if (!state) {
      state = { readers: 0, writer: false, queue: [] };
      this.states.set(upload, state);
    }
    const lockState = state;
    await new Promise<void>((grant) => {
      lockState.queue.push({ exclusive, grant });
      this.grant(upload, lockState);
    });
    return once(() => {
      if (exclusive) lockState.writer = false;
      else lockState.readers -= 1;
      this.grant(upload, lockState);
    });
  }

  private grant(upload: string, state: UploadLockState): void {
    while (state.queue.length > 0 && !state.writer) {
      const next = state.queue[0]!;
      if (next.exclusive && state.readers > 0) break;
      state.queue.shift();
      if (next.exclusive) state.writer = true;
      else state.readers += 1;
      next.grant();
    }
    if (state.queue.length === 0 && !state.writer && state.readers === 0) this.states.delete(upload);
  }
}
