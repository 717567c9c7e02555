import type { APIGatewayProxyResult } from 'aws-lambda';

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The largest request body CalMS reads: a ticket's request is a few hundred bytes, so more is refused unread. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

export type ParsedBody = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly bytes?: number };

/**
 * Parses a JSON request body. Not JSON: `ok: false`; over {@link MAX_REQUEST_BODY_BYTES}: `ok: false` with its
 * size, before any parsing.
 */
export function parseJsonBody(body: string | null | undefined, isBase64Encoded = false): ParsedBody {
  const bytes = isBase64Encoded && body ? Buffer.from(body, 'base64') : Buffer.from(body ?? '', 'utf8');
  if (bytes.length > MAX_REQUEST_BODY_BYTES) return { ok: false, bytes: bytes.length };
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}
