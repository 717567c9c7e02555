/**
 * `maxResults` / `nextToken` paging as the List* and GetExecutionHistory actions do it on AWS.
 */

import { StepFunctionsError } from './errors';

/** AWS's page size when `maxResults` is absent or 0, and its upper bound. */
const DEFAULT_PAGE_SIZE = 100;
const LARGEST_PAGE_SIZE = 1000;

/** Where a page ended: the sort key of its last item. */
export type Cursor = readonly (string | number)[];

export interface PageRequest {
  readonly maxResults?: number;
  readonly nextToken?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

function encodeToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeToken(token: string): Cursor {
  try {
    const cursor: unknown = JSON.parse(Buffer.from(token, 'base64url').toString());
    if (Array.isArray(cursor) && cursor.every((part) => typeof part === 'string' || typeof part === 'number')) return cursor;
  } catch {
    // Falls through to the same answer as a token of the wrong shape.
  }
  throw new StepFunctionsError('InvalidToken', `Invalid nextToken: ${token}`);
}

/**
 * The page of `sorted` that starts after the token's cursor. Tokens hold a sort key rather than an offset
 * so that executions started between two calls neither repeat nor hide items of the next page.
 *
 * @param cursorOf the sort key of an item.
 * @param comesAfter whether an item sorts after a cursor, in the order of `sorted`.
 */
export function pageOf<T>(
  sorted: readonly T[],
  request: PageRequest,
  cursorOf: (item: T) => Cursor,
  comesAfter: (item: T, cursor: Cursor) => boolean,
): Page<T> {
  const size = request.maxResults || DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > LARGEST_PAGE_SIZE) {
    throw new StepFunctionsError('ValidationException', `maxResults must be a whole number from 0 to ${LARGEST_PAGE_SIZE}`);
  }
  let start = 0;
  if (request.nextToken !== undefined) {
    const cursor = decodeToken(request.nextToken);
    start = sorted.findIndex((item) => comesAfter(item, cursor));
    if (start === -1) start = sorted.length;
  }
  const items = sorted.slice(start, start + size);
  const more = start + size < sorted.length;
  return more ? { items, nextToken: encodeToken(cursorOf(items[items.length - 1])) } : { items };
}
