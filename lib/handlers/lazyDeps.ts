/**
 * Dependencies a handler gets only when it is first invoked: some are read asynchronously at cold start (the
 * cluster key from Secrets Manager), and a handler whose call needs none of them must not wait for them.
 */
export type LazyDeps<T> = () => Promise<T>;
