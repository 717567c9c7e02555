/**
 * Scripted failures for the fakes: `failNext('claim', error)` makes the next call of that method reject,
 * `failAlways('start', error)` every call until `clear()`.
 */
export class Failures<Method extends string> {
  private readonly once = new Map<Method, Error[]>();
  private readonly always = new Map<Method, Error>();

  failNext(method: Method, error: Error): void {
    this.once.set(method, [...(this.once.get(method) ?? []), error]);
  }

  failAlways(method: Method, error: Error): void {
    this.always.set(method, error);
  }

  clear(): void {
    this.once.clear();
    this.always.clear();
  }

  /** Throws the scripted error for `method`, if any. */
  check(method: Method): void {
    const queued = this.once.get(method);
    if (queued && queued.length > 0) throw queued.shift()!;
    const error = this.always.get(method);
    if (error) throw error;
  }
}
