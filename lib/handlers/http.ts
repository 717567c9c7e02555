import type { APIGatewayProxyResult } from 'aws-lambda';

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Parses a JSON request body; `{ ok: false }` when it is not JSON. */
export function parseJsonBody(body: string | null | undefined, isBase64Encoded = false): { ok: true; value: unknown } | { ok: false } {
  try {
    const text = isBase64Encoded && body ? Buffer.from(body, 'base64').toString('utf8') : (body ?? '');
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
