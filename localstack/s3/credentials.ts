/**
 * Any access key on the edge, as on LocalStack. s3rver knows one account, `S3RVER`, and refuses every other
 * access key ("The AWS Access Key Id you provided does not exist in our records"), so a LocalStack user's
 * `test`/`test` or someone's real AWS keys in the environment would fail. The edge therefore names s3rver's
 * account in the request's credential before passing it on. s3rver does not verify SigV4 signatures at all,
 * and is started with `--allow-mismatched-signatures` for SigV2, so the signature itself may stay as the
 * client computed it. Unsigned requests (`aws --no-sign-request`) pass as they are: s3rver serves them anonymously.
 */
import type http from 'node:http';

/** The access key of s3rver's only account (its built-in default). */
export const S3RVER_ACCESS_KEY_ID = 'S3RVER';

/** The credential's access key, in a SigV4 `Credential=` (header) or `X-Amz-Credential=` (query), and a SigV2 header or query. */
const SIGV4_HEADER = /(Credential=)[^/,\s]+/;
const SIGV2_HEADER = /^(AWS )[^:\s]+:/;
const SIGV4_QUERY = /([?&]X-Amz-Credential=)[^&/%]+/i;
const SIGV2_QUERY = /([?&]AWSAccessKeyId=)[^&]+/;

/** Rewrites the request, in place, as if signed with s3rver's access key. */
export function asS3rverAccount(req: http.IncomingMessage): void {
  const { authorization } = req.headers;
  if (authorization !== undefined) {
    req.headers.authorization = authorization.replace(SIGV4_HEADER, `$1${S3RVER_ACCESS_KEY_ID}`).replace(SIGV2_HEADER, `$1${S3RVER_ACCESS_KEY_ID}:`);
  }
  if (req.url?.includes('?')) {
    req.url = req.url.replace(SIGV4_QUERY, `$1${S3RVER_ACCESS_KEY_ID}`).replace(SIGV2_QUERY, `$1${S3RVER_ACCESS_KEY_ID}`);
  }
}
