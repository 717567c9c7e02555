/**
 * The state machine as a graph, as the AWS console draws it: states in layers from Start downwards, Next and
 * Choice edges solid, loops bending back on the right, Catch edges dashed; the states an execution went
 * through, the edges it took and its current state styled. A small layered layout (longest path, then a few
 * barycenter sweeps), rendered as SVG without any script.
 */
import { type Html, html } from './html';
import type { Step, StepStatus } from './model';

interface ChoiceRule {
  readonly Next?: string;
  readonly Variable?: string;
  readonly And?: readonly ChoiceRule[];
  readonly Or?: readonly ChoiceRule[];
  readonly Not?: ChoiceRule;
  readonly [operator: string]: unknown;
}

interface StateDefinition {
  readonly Type?: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly Comment?: string;
  readonly Choices?: readonly ChoiceRule[];
  readonly Catch?: readonly { readonly ErrorEquals?: readonly string[]; readonly Next?: string }[];
}

interface Definition {
  readonly StartAt?: string;
  readonly States?: Readonly<Record<string, StateDefinition>>;
}

type EdgeKind = 'next' | 'choice' | 'catch';

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  readonly labels: string[];
}

interface LayoutNode {
  readonly id: string;
  readonly kind: 'start' | 'state' | 'dummy';
  readonly type: string;
  readonly width: number;
  layer: number;
  x: number;
}

const START = '\u0000start';
const NODE_HEIGHT = 34;
const ROW = 74;
const GAP = 30;
const DUMMY_WIDTH = 10;
const MARGIN = 24;
const LOOP_OFFSET = 46;

/** Width of a label in 12px DejaVu Sans (the machine's sans-serif), a little generous. */
function labelWidth(label: string): number {
  let width = 0;
  for (const character of label) width += /[A-Z]/.test(character) ? 8.4 : /[mw]/.test(character) ? 10.2 : /[iljft]/.test(character) ? 4.2 : 7;
  return Math.max(96, Math.ceil(width) + 30);
}

function operand(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A Choice rule as a short condition, e.g. `$.entitlement.outcome == NOT_ENTITLED`. */
export function ruleText(rule: ChoiceRule): string {
  if (rule.And) return rule.And.map(ruleText).join(' and ');
  if (rule.Or) return rule.Or.map(ruleText).join(' or ');
  if (rule.Not) return `not (${ruleText(rule.Not)})`;
  const operator = Object.keys(rule).find((key) => !['Variable', 'Next', 'Comment'].includes(key));
  if (!operator) return rule.Variable ?? '';
  const value = rule[operator];
  const symbol = /Equals/.test(operator)
    ? '=='
    : /LessThanEquals/.test(operator)
      ? '<='
      : /LessThan/.test(operator)
        ? '<'
        : /GreaterThanEquals/.test(operator)
          ? '>='
          : /GreaterThan/.test(operator)
            ? '>'
            : operator;
  return `${rule.Variable ?? ''} ${symbol} ${operand(value)}`;
}

function edgesOf(definition: Definition): Edge[] {
  const edges: Edge[] = [];
  const add = (from: string, to: string | undefined, kind: EdgeKind, label: string) => {
    if (to === undefined || !definition.States?.[to]) return;
    const same = edges.find((edge) => edge.from === from && edge.to === to && edge.kind === kind);
    if (same) same.labels.push(label);
    else edges.push({ from, to, kind, labels: [label] });
  };
  if (definition.StartAt) add(START, definition.StartAt, 'next', 'Start');
  for (const [name, state] of Object.entries(definition.States ?? {})) {
    for (const rule of state.Choices ?? []) add(name, rule.Next, 'choice', ruleText(rule));
    add(name, state.Default, 'choice', 'Default');
    add(name, state.Next, 'next', 'Next');
    for (const handler of state.Catch ?? []) add(name, handler.Next, 'catch', `Catch ${(handler.ErrorEquals ?? []).join(', ')}`);
  }
  return edges;
}

/** Edges that close a loop (to a state still being explored in a depth-first walk from Start). */
function backEdges(names: readonly string[], edges: readonly Edge[]): Set<Edge> {
  const out = new Map<string, Edge[]>();
  for (const edge of edges) out.set(edge.from, [...(out.get(edge.from) ?? []), edge]);
  const state = new Map<string, 'open' | 'done'>();
  const back = new Set<Edge>();
  const visit = (node: string) => {
    state.set(node, 'open');
    // Normal edges before Catch edges: the main path is explored first, as a person reads it.
    const ordered = [...(out.get(node) ?? [])].sort((a, b) => Number(a.kind === 'catch') - Number(b.kind === 'catch'));
    for (const edge of ordered) {
      const seen = state.get(edge.to);
      if (seen === 'open') back.add(edge);
      else if (seen === undefined) visit(edge.to);
    }
    state.set(node, 'done');
  };
  visit(START);
  for (const name of names) if (!state.has(name)) visit(name);
  return back;
}

interface Segment {
  readonly from: string;
  readonly to: string;
}

interface Layout {
  readonly nodes: Map<string, LayoutNode>;
  readonly layers: string[][];
  /** Per routed edge, the nodes it passes through (dummies included), from its source to its target. */
  readonly routes: Map<Edge, string[]>;
  readonly back: Set<Edge>;
}

function crossings(segments: readonly Segment[], position: Map<string, number>, layerOf: Map<string, number>): number {
  let count = 0;
  const byLayer = new Map<number, Segment[]>();
  for (const segment of segments) {
    const layer = layerOf.get(segment.from)!;
    byLayer.set(layer, [...(byLayer.get(layer) ?? []), segment]);
  }
  for (const list of byLayer.values()) {
    for (let i = 0; i < list.length; i += 1) {
      for (let j = i + 1; j < list.length; j += 1) {
        const a = list[i]!;
        const b = list[j]!;
        const top = position.get(a.from)! - position.get(b.from)!;
        const bottom = position.get(a.to)! - position.get(b.to)!;
        if (top * bottom < 0) count += 1;
      }
    }
  }
  return count;
}

function layout(definition: Definition, edges: readonly Edge[]): Layout {
  const names = Object.keys(definition.States ?? {});
  const back = backEdges(names, edges);
  const forward = edges.filter((edge) => !back.has(edge));

  // Longest path from Start: every state sits below all the states that lead to it.
  const layerOf = new Map<string, number>([[START, 0]]);
  const incoming = new Map<string, Edge[]>();
  for (const edge of forward) incoming.set(edge.to, [...(incoming.get(edge.to) ?? []), edge]);
  const layerFor = (name: string, path: Set<string>): number => {
    const known = layerOf.get(name);
    if (known !== undefined) return known;
    path.add(name);
    const parents = (incoming.get(name) ?? []).filter((edge) => !path.has(edge.from));
    const layer = parents.length === 0 ? 1 : Math.max(...parents.map((edge) => layerFor(edge.from, path) + 1));
    path.delete(name);
    layerOf.set(name, layer);
    return layer;
  };
  for (const name of names) layerFor(name, new Set());

  const nodes = new Map<string, LayoutNode>();
  nodes.set(START, { id: START, kind: 'start', type: 'Start', width: 64, layer: 0, x: 0 });
  for (const name of names) {
    const type = definition.States![name]!.Type ?? 'Task';
    // Room for bold (the current state) and for the Wait clock.
    const width = Math.ceil(labelWidth(name) * 1.08) + (type === 'Wait' ? 18 : 0);
    nodes.set(name, { id: name, kind: 'state', type, width, layer: layerOf.get(name)!, x: 0 });
  }
  const rank = new Map<string, number>([[START, -1], ...names.map((name, index) => [name, index] as const)]);

  // Next and Choice edges across several layers pass through dummies, so that they go around the states between.
  const routes = new Map<Edge, string[]>();
  const segments: Segment[] = [];
  for (const edge of forward) {
    if (edge.kind === 'catch') continue;
    const route = [edge.from];
    const from = layerOf.get(edge.from)!;
    const to = layerOf.get(edge.to)!;
    for (let layer = from + 1; layer < to; layer += 1) {
      const id = `\u0000dummy:${edge.from}->${edge.to}:${layer}`;
      nodes.set(id, { id, kind: 'dummy', type: 'dummy', width: DUMMY_WIDTH, layer, x: 0 });
      rank.set(id, rank.get(edge.from)! + 0.5);
      layerOf.set(id, layer);
      route.push(id);
    }
    route.push(edge.to);
    routes.set(edge, route);
    for (let index = 1; index < route.length; index += 1) segments.push({ from: route[index - 1]!, to: route[index]! });
  }

  const depth = Math.max(...[...nodes.values()].map((node) => node.layer));
  let layers: string[][] = Array.from({ length: depth + 1 }, () => []);
  for (const node of nodes.values()) layers[node.layer]!.push(node.id);
  for (const layer of layers) layer.sort((a, b) => rank.get(a)! - rank.get(b)!);

  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const { from, to } of segments) {
    parents.set(to, [...(parents.get(to) ?? []), from]);
    children.set(from, [...(children.get(from) ?? []), to]);
  }
  const positions = (ordering: string[][]) => new Map(ordering.flatMap((layer) => layer.map((id, index) => [id, index] as const)));
  let best = layers.map((layer) => [...layer]);
  let fewest = crossings(segments, positions(best), layerOf);
  for (let sweep = 0; sweep < 8 && fewest > 0; sweep += 1) {
    const down = sweep % 2 === 0;
    const position = positions(layers);
    const order = down ? layers.map((_, index) => index) : layers.map((_, index) => layers.length - 1 - index);
    layers = layers.map((layer) => [...layer]);
    for (const index of order) {
      const neighbours = down ? parents : children;
      const centre = (id: string) => {
        const near = neighbours.get(id) ?? [];
        return near.length === 0 ? position.get(id)! : near.reduce((sum, other) => sum + position.get(other)!, 0) / near.length;
      };
      layers[index] = [...layers[index]!].sort((a, b) => centre(a) - centre(b) || position.get(a)! - position.get(b)!);
      layers[index]!.forEach((id, at) => {
        position.set(id, at);
      });
    }
    const count = crossings(segments, positions(layers), layerOf);
    if (count < fewest) {
      fewest = count;
      best = layers.map((layer) => [...layer]);
    }
  }
  layers = best;

  // Each state under the states that lead to it, pushed aside as little as its neighbours need.
  const catchParents = new Map<string, string[]>();
  for (const edge of forward) if (edge.kind === 'catch') catchParents.set(edge.to, [...(catchParents.get(edge.to) ?? []), edge.from]);
  for (const layer of layers) {
    const desired = layer.map((id) => {
      const above = parents.get(id) ?? catchParents.get(id) ?? [];
      return above.length === 0 ? 0 : above.reduce((sum, other) => sum + nodes.get(other)!.x, 0) / above.length;
    });
    const placed: number[] = [];
    layer.forEach((id, index) => {
      const node = nodes.get(id)!;
      if (index === 0) {
        placed.push(desired[index]!);
        return;
      }
      const left = nodes.get(layer[index - 1]!)!;
      placed.push(Math.max(desired[index]!, placed[index - 1]! + (left.width + node.width) / 2 + GAP));
    });
    const shift = desired.reduce((sum, want, index) => sum + want - placed[index]!, 0) / layer.length;
    layer.forEach((id, index) => {
      nodes.get(id)!.x = placed[index]! + shift;
    });
  }
  return { nodes, layers, routes, back };
}

export interface GraphState {
  readonly status: StepStatus | 'unvisited';
  readonly visits: number;
}

/** Per state, how the execution left it the last time it was there. */
export function graphStates(steps: readonly Step[]): Map<string, GraphState> {
  const states = new Map<string, GraphState>();
  for (const step of steps) states.set(step.name, { status: step.status, visits: (states.get(step.name)?.visits ?? 0) + 1 });
  return states;
}

/**
 * Edges the execution went along, as `from->to` (Start included), and `catch:from->to` where a Catch took it:
 * a state can have a Next and a Catch to the same state.
 */
function takenEdges(steps: readonly Step[]): Set<string> {
  const taken = new Set<string>();
  if (steps[0]) taken.add(`${START}->${steps[0].name}`);
  for (let index = 1; index < steps.length; index += 1) {
    const from = steps[index - 1]!;
    taken.add(`${from.status === 'caught' ? 'catch:' : ''}${from.name}->${steps[index]!.name}`);
  }
  return taken;
}

const STATUS_WORDS: Record<GraphState['status'], string> = {
  succeeded: 'passed through',
  caught: 'error caught',
  failed: 'failed here',
  running: 'current state',
  aborted: 'stopped here',
  unvisited: 'not visited',
};

function shape(type: string, width: number): Html {
  const w = width / 2;
  const h = NODE_HEIGHT / 2;
  switch (type) {
    case 'Start':
      return html`<circle class="shape" r="${h + 2}"></circle>`;
    case 'Choice':
      return html`<polygon class="shape" points="${[-w, 0, -w + 14, -h, w - 14, -h, w, 0, w - 14, h, -w + 14, h].join(' ')}"></polygon>`;
    case 'Succeed':
    case 'Fail':
      return html`<rect class="shape" x="${-w}" y="${-h}" width="${width}" height="${NODE_HEIGHT}" rx="${h}"></rect>`;
    case 'Wait':
      return html`<rect class="shape" x="${-w}" y="${-h}" width="${width}" height="${NODE_HEIGHT}" rx="4"></rect><path class="clock" d="M ${-w + 13} ${-5} v 5 h 4 M ${-w + 13 + 5.5} 0 a 5.5 5.5 0 1 1 -11 0 a 5.5 5.5 0 1 1 11 0"></path>`;
    default:
      return html`<rect class="shape" x="${-w}" y="${-h}" width="${width}" height="${NODE_HEIGHT}" rx="6"></rect>`;
  }
}

const round = (value: number) => Math.round(value * 10) / 10;

/** The graph drawn, and each edge and state of it by its `data-key`, so that a live page replaces only those that changed. */
export interface GraphDrawing {
  readonly svg: Html;
  readonly parts: ReadonlyMap<string, string>;
}

/** The layout of the last definition drawn: a live page draws the same one every tick. */
let laidOut: { readonly text: string; readonly definition: Definition; readonly edges: Edge[]; readonly layout: Layout } | undefined;

function laidOutGraph(text: string) {
  if (laidOut?.text !== text) {
    const definition = JSON.parse(text) as Definition;
    if (!definition.States || typeof definition.States !== 'object') throw new Error('no States');
    const edges = edgesOf(definition);
    laidOut = { text, definition, edges, layout: layout(definition, edges) };
  }
  return laidOut;
}

/**
 * The SVG of the state machine `definitionText` (JSON ASL) with the execution's steps on it. A definition
 * that cannot be read gives a note instead.
 */
export function stateMachineGraph(definitionText: string | undefined, steps: readonly Step[]): Html {
  return drawGraph(definitionText, steps).svg;
}

export function drawGraph(definitionText: string | undefined, steps: readonly Step[]): GraphDrawing {
  let drawn: ReturnType<typeof laidOutGraph>;
  try {
    drawn = laidOutGraph(definitionText ?? '');
  } catch {
    return { svg: html`<p class="note">The state machine definition could not be read.</p>`, parts: new Map() };
  }
  const { edges } = drawn;
  const { nodes, layers, routes, back } = drawn.layout;
  const states = graphStates(steps);
  const taken = takenEdges(steps);
  const lastState = steps.at(-1)?.name;

  const xs = [...nodes.values()].flatMap((node) => [node.x - node.width / 2, node.x + node.width / 2]);
  const loopRoom = back.size > 0 ? LOOP_OFFSET + 10 * layers.length : 0;
  const left = Math.min(...xs) - MARGIN - 40;
  const width = Math.max(...xs) - left + MARGIN + loopRoom;
  const height = layers.length * ROW + MARGIN;
  const at = (id: string) => {
    const node = nodes.get(id)!;
    return { x: node.x - left, y: MARGIN + node.layer * ROW + NODE_HEIGHT / 2, node };
  };

  const edgeMarkup = edges.map((edge) => {
    const isTaken = taken.has(`${edge.kind === 'catch' ? 'catch:' : ''}${edge.from}->${edge.to}`);
    const classes = ['edge', edge.kind, back.has(edge) ? 'loop' : '', isTaken ? 'taken' : ''].filter(Boolean).join(' ');
    const title = edge.labels.join('\n');
    const source = at(edge.from);
    const target = at(edge.to);
    let d: string;
    if (back.has(edge)) {
      // A loop goes out on the outer side of the state it leaves and comes back into the same side of the state it repeats.
      const side = source.x < target.x - 1 ? -1 : 1;
      const x1 = source.x + (side * source.node.width) / 2;
      const x2 = target.x + (side * target.node.width) / 2;
      const bend = (side > 0 ? Math.max(x1, x2) : Math.min(x1, x2)) + side * (LOOP_OFFSET + 8 * Math.abs(source.node.layer - target.node.layer));
      d = `M ${round(x1)} ${round(source.y)} C ${round(bend)} ${round(source.y)} ${round(bend)} ${round(target.y)} ${round(x2 + side * 6)} ${round(target.y)}`;
    } else if (edge.kind === 'catch') {
      // Towards the failure handlers from the left side, so that they do not hide the main path.
      const x1 = source.x - source.node.width / 2;
      const y2 = target.y - NODE_HEIGHT / 2;
      d = `M ${round(x1)} ${round(source.y)} C ${round(x1 - 50)} ${round(source.y + 20)} ${round(target.x)} ${round(y2 - ROW * 0.6)} ${round(target.x)} ${round(y2 - 6)}`;
    } else {
      const points = routes.get(edge)!.map((id) => at(id));
      const first = points[0]!;
      let path = `M ${round(first.x)} ${round(first.y + NODE_HEIGHT / 2)}`;
      for (let index = 1; index < points.length; index += 1) {
        const from = points[index - 1]!;
        const to = points[index]!;
        const fromY = from.node.kind === 'dummy' ? from.y : from.y + (from.node.kind === 'start' ? NODE_HEIGHT / 2 + 2 : NODE_HEIGHT / 2);
        const toY = to.node.kind === 'dummy' ? to.y : to.y - NODE_HEIGHT / 2 - 6;
        const middle = (fromY + toY) / 2;
        path += ` C ${round(from.x)} ${round(middle)} ${round(to.x)} ${round(middle)} ${round(to.x)} ${round(toY)}`;
      }
      d = path;
    }
    return {
      edge,
      isTaken,
      markup: html`<path class="${classes}" data-key="${`edge:${edge.kind}:${edge.from}->${edge.to}`}" d="${d}" marker-end="url(#arrow${isTaken ? (edge.kind === 'catch' ? '-caught' : '-taken') : ''})"><title>${title}</title></path>`,
    };
  });
  // Catch edges not taken would cross the whole graph from every Task: they show while the pointer is on their state.
  const hidden = (edge: Edge, isTaken: boolean) => edge.kind === 'catch' && !isTaken;
  const shownEdges = edgeMarkup.filter(({ edge, isTaken }) => !hidden(edge, isTaken));
  const catchesOf = (name: string) =>
    edgeMarkup.filter(({ edge, isTaken }) => edge.from === name && hidden(edge, isTaken)).map(({ markup }) => markup);

  const nodeMarkup = [...nodes.values()]
    .filter((node) => node.kind !== 'dummy')
    .map((node) => {
      const { x, y } = at(node.id);
      if (node.kind === 'start') {
        return {
          key: 'start',
          markup: html`<g class="node start" data-key="start" transform="translate(${round(x)} ${round(y)})">${shape('Start', node.width)}<text class="start-label" dy="4">Start</text></g>`,
        };
      }
      const state = states.get(node.id) ?? { status: 'unvisited' as const, visits: 0 };
      const visits =
        state.visits > 1 ? html`<text class="visits" x="${round(node.width / 2 - 4)}" y="${-NODE_HEIGHT / 2 - 3}">×${state.visits}</text>` : '';
      const label = `${node.id} (${node.type}): ${STATUS_WORDS[state.status]}${state.visits > 1 ? `, ${state.visits} visits` : ''}`;
      const catches = catchesOf(node.id);
      const key = `state:${node.id}`;
      const markup = html`<g class="node state-${state.status} type-${node.type}${node.id === lastState ? ' last' : ''}" data-state="${node.id}" data-status="${state.status}"${catches.length === 0 ? html` data-key="${key}"` : ''} transform="translate(${round(x)} ${round(y)})" role="button" tabindex="0" aria-label="${label}"><title>${label}</title>${shape(node.type, node.width)}<text class="label" dy="4"${node.type === 'Wait' ? html` dx="10"` : ''}>${node.id}</text>${visits}</g>`;
      return {
        key,
        markup: catches.length === 0 ? markup : html`<g class="with-catches" data-key="${key}"><g class="catches">${catches}</g>${markup}</g>`,
      };
    });

  const marker = (id: string) =>
    html`<marker id="${id}" class="${id}" viewBox="0 0 10 10" refX="2" refY="5" markerUnits="userSpaceOnUse" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"></path></marker>`;
  const parts = new Map<string, string>();
  for (const { edge, markup } of shownEdges) parts.set(`edge:${edge.kind}:${edge.from}->${edge.to}`, markup.text);
  for (const { key, markup } of nodeMarkup) parts.set(key, markup.text);
  const svg = html`<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="${round(width)}" height="${round(height)}" viewBox="0 0 ${round(width)} ${round(height)}" role="group" aria-label="State machine graph: choose a state to see its last input and output"><defs>${marker('arrow')}${marker('arrow-taken')}${marker('arrow-caught')}</defs><g class="edges">${shownEdges.map(({ markup }) => markup)}</g><g class="nodes">${nodeMarkup.map(({ markup }) => markup)}</g></svg>`;
  return { svg, parts };
}
