/**
 * What a live execution page fetches every tick instead of the whole page: given the newest event it has,
 * the events after it, the steps table rows and graph parts that changed since, and the top of the page
 * (status, summary, failure) anew. The page's script (assets.ts) puts each in place.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { drawGraph } from './graph';
import { groupRow, newEventRows } from './history';
import { foldSteps, type Step, stepsOf } from './model';
import { EXECUTION_REFRESH_MS, executionHead, executionIo, executionTitle, type PageContext } from './pages';
import type { ExecutionDetail } from './source';

export interface Changes<K> {
  /** New and changed parts, in the page's order, each by its key. */
  readonly changed: readonly { readonly key: K; readonly html: string }[];
  readonly removed: readonly K[];
}

export interface ExecutionUpdate {
  readonly status: string;
  /** The id of the newest event: the `after` of the next tick. */
  readonly after: number;
  /** Milliseconds to the next tick; absent once the execution has ended. */
  readonly refreshMs?: number;
  readonly title: string;
  /** The top of the page (#live-head). */
  readonly head: string;
  readonly graph: Changes<string>;
  /** Rows of the steps table, keyed by their first step. */
  readonly steps: Changes<number>;
  /** Rows to add under the events table, or to replace its rows with when more than a page came. */
  readonly events: { readonly html: string; readonly replace: boolean };
  /** Input and output (#io), once the execution has ended. */
  readonly io?: string;
}

/** Parts in `after` that are new or differ from `before`, and those gone; `always` are sent however they compare. */
function changes<K>(before: ReadonlyMap<K, string>, after: ReadonlyMap<K, string>, always: ReadonlySet<K> = new Set()): Changes<K> {
  return {
    changed: [...after].filter(([key, markup]) => always.has(key) || before.get(key) !== markup).map(([key, markup]) => ({ key, html: markup })),
    removed: [...before.keys()].filter((key) => !after.has(key)),
  };
}

function stepRowsByKey(name: string, steps: readonly Step[], now: Date): Map<number, string> {
  return new Map(foldSteps(steps).map((group) => [group.first, groupRow(name, group, now).text]));
}

/**
 * What changed in `detail` since its event `after`, as the page showing it up to that event needs it. The
 * rows of steps still going on are always sent, as their duration grows.
 */
export function executionUpdate(context: PageContext, detail: ExecutionDetail, after: number): ExecutionUpdate {
  const { execution, steps, events } = detail;
  const name = execution.name ?? '';
  const running = execution.status === 'RUNNING';
  const seen: HistoryEvent[] = events.filter((event) => (event.id ?? 0) <= after);
  const stepsSeen = stepsOf(seen, 'RUNNING');
  const going = new Set(foldSteps(steps).flatMap((group) => (group.steps.some((step) => step.endedAt === undefined) ? [group.first] : [])));
  const newEvents = newEventRows(name, events, after);
  return {
    status: execution.status ?? 'UNKNOWN',
    after: events.at(-1)?.id ?? after,
    refreshMs: running ? EXECUTION_REFRESH_MS : undefined,
    title: executionTitle(detail),
    head: executionHead(context, detail).text,
    graph: changes(drawGraph(detail.definition, stepsSeen).parts, drawGraph(detail.definition, steps).parts),
    steps: changes(stepRowsByKey(name, stepsSeen, context.now), stepRowsByKey(name, steps, context.now), going),
    events: { html: newEvents.rows.text, replace: newEvents.replace },
    io: running ? undefined : executionIo(execution).text,
  };
}
