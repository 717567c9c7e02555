/** The error a promise rejects with, for tests that assert on its class and message; fails if it resolves. */
export async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the promise resolved: no error to look at');
}
