/**
 * What every S3 adapter of CalMS does the same way: sort a failure into "try again" (StorageUnavailableError)
 * or the SDK's own error, ask whether an object is there, and read a small JSON object that may be absent.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StorageUnavailableError } from '../errors';
import { httpStatusOf, isTransientAwsError } from './errors';

/** 404 / NoSuchKey / NotFound (HEAD answers have no body, so only a name). */
export function isMissingObject(error: unknown): boolean {
  return httpStatusOf(error) === 404 || ['NotFound', 'NoSuchKey'].includes((error as Error | undefined)?.name ?? '');
}

/** A transient failure as StorageUnavailableError, saying what S3 did not do; anything else as it is. */
export function storageFailure(what: string, error: unknown): Error {
  if (isTransientAwsError(error)) return new StorageUnavailableError(`S3 did not ${what}: ${(error as Error).message}`, { cause: error });
  return error as Error;
}

/** Runs one S3 call, translating its failure with {@link storageFailure}. */
export async function s3Call<T>(what: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw storageFailure(what, error);
  }
}

/** Whether there is an object at `key`; any failure but its absence is thrown as the SDK threw it. */
export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isMissingObject(error)) return false;
    throw error;
  }
}

/** The JSON object at `key`, or undefined when there is none. */
export async function readJsonObject<T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await object.Body!.transformToString('utf8')) as T;
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw storageFailure(`read ${key}`, error);
  }
}
