/**
 * Where s3rver 3.7.1 keeps things on disk (its FilesystemStore, POSIX key encoding only), for the few things
 * the edge reads or removes there itself because s3rver has no request for them:
 *
 *   <dir>/<bucket>/<key dirs>/<last>._S3rver_object            the object (written in place)
 *   <dir>/<bucket>/<key dirs>/<last>._S3rver_tagging.xml       its tags (kept by DeleteObject: the edge removes it)
 *   <dir>/<bucket>/._S3rver_uploads/<uploadId>/key             a multipart upload's key,
 *                                              .../metadata        the CreateMultipartUpload headers as JSON,
 *                                              .../<n>, <n>.md5    part n and its MD5 (hex), written after it.
 *
 * Also how the edge names a key: its lock key and the path of a request for it.
 */
import path from 'node:path';

export interface ObjectName {
  readonly bucket: string;
  /** '' for the bucket itself. */
  readonly key: string;
}

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** The bucket and key a path-style request's path names (decoded). */
export function parseS3Path(pathname: string): ObjectName | undefined {
  const match = /^\/([^/]+)(?:\/(.*))?$/.exec(pathname);
  if (!match) return undefined;
  return { bucket: decode(match[1]!), key: decode(match[2] ?? '') };
}

/** The `x-amz-copy-source` header's bucket and key (`bucket/key` or `/bucket/key`, URL-encoded, maybe `?versionId=`). */
export function parseCopySource(header: string): ObjectName | undefined {
  const withoutVersion = header.split('?')[0]!;
  const name = parseS3Path(withoutVersion.startsWith('/') ? withoutVersion : `/${withoutVersion}`);
  return name?.key ? name : undefined;
}

/** What the edge locks for a key: one string however the client encoded the path. */
export const lockKeyOf = (name: ObjectName): string => `/${name.bucket}/${name.key}`;

/** The path of a request for the key (for the edge's own requests to s3rver). */
export const requestPathOf = (name: ObjectName): string =>
  `/${encodeURIComponent(name.bucket)}/${name.key.split('/').map(encodeURIComponent).join('/')}`;

const SAFE_BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SAFE_UPLOAD_ID = /^[A-Za-z0-9_-]{1,200}$/;

export const isSafeUploadId = (uploadId: string): boolean => SAFE_UPLOAD_ID.test(uploadId);

export class S3rverLayout {
  constructor(readonly root: string) {}

  bucketDir(bucket: string): string | undefined {
    return SAFE_BUCKET.test(bucket) ? path.join(this.root, bucket) : undefined;
  }

  /** `resource` is `object`, `tagging.xml`, ...; undefined for a name that would lead outside the bucket. */
  resourceFile(name: ObjectName, resource: string): string | undefined {
    const bucketDir = this.bucketDir(name.bucket);
    if (!bucketDir) return undefined;
    const parts = name.key.split('/');
    const last = parts.pop()!;
    const file = path.join(bucketDir, ...parts, `${last}._S3rver_${resource}`);
    return file.startsWith(bucketDir + path.sep) ? file : undefined;
  }

  uploadsDir(bucket: string): string | undefined {
    const bucketDir = this.bucketDir(bucket);
    return bucketDir && path.join(bucketDir, '._S3rver_uploads');
  }

  uploadDir(bucket: string, uploadId: string): string | undefined {
    const uploads = this.uploadsDir(bucket);
    return uploads && isSafeUploadId(uploadId) ? path.join(uploads, uploadId) : undefined;
  }
}
