/**
 * The local cloud's EventBridge, as far as CalMS uses it: the functions' `eventBridge` rules of serverless.yml,
 * read from the file itself so that the rule is declared once, and matched against the events the local Step
 * Functions server emits. A matching event invokes the function through serverless-offline, asynchronously and
 * with Lambda's two retries of an asynchronous invocation that failed, so a watcher may see an event more than
 * once, as on AWS.
 */
import yaml from 'js-yaml';
import type { Logger } from '../lib/log';
import type { LambdaInvoker } from './stepfunctions/execution';

/** Values to match at each key (any of them), or a nested pattern. Content filters (prefix, …) are not supported. */
export interface EventPattern {
  readonly [key: string]: readonly (string | number | boolean | null)[] | EventPattern;
}

export interface EventRule {
  /** The deployed name serverless-offline knows: `calms-<stage>-<function>`. */
  readonly functionName: string;
  readonly pattern: EventPattern;
}

export interface Deployment {
  readonly service: string;
  readonly stage: string;
  readonly region: string;
  readonly accountId: string;
}

type Node = unknown;

/** `${self:custom.x.y}` and CloudFormation's `Fn::Sub` with the pseudo parameters, resolved as a deploy would. */
function resolver(document: Record<string, Node>, deployment: Deployment) {
  const pseudo: Record<string, string> = {
    'AWS::Region': deployment.region,
    'AWS::AccountId': deployment.accountId,
    'AWS::Partition': 'aws',
    'sls:stage': deployment.stage,
  };
  const resolve = (node: Node): Node => {
    if (typeof node === 'string') {
      const reference = /^\$\{self:([\w.]+)\}$/.exec(node);
      if (reference) return resolve(reference[1]!.split('.').reduce<Node>((at, key) => (at as Record<string, Node> | undefined)?.[key], document));
      if (node.includes('${')) throw new Error(`serverless.yml: the local EventBridge cannot resolve ${node}`);
      return node;
    }
    if (Array.isArray(node)) return node.map(resolve);
    if (node && typeof node === 'object') {
      const sub = (node as Record<string, Node>)['Fn::Sub'];
      if (typeof sub === 'string') return resolve(sub.replace(/\$\{([\w:]+)\}/g, (whole, name: string) => pseudo[name] ?? whole));
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolve(value)]));
    }
    if (node === undefined) throw new Error('serverless.yml: the local EventBridge found a reference to nothing');
    return node;
  };
  return resolve;
}

/** Every function's `eventBridge` pattern rule in serverless.yml (the text), resolved for the local deployment. */
export function eventRulesFromServerless(text: string, deployment: Deployment): EventRule[] {
  const document = yaml.load(text) as Record<string, Node>;
  const resolve = resolver(document, deployment);
  const functions = (document.functions ?? {}) as Record<string, { events?: { eventBridge?: { pattern?: Node } }[] }>;
  return Object.entries(functions).flatMap(([name, fn]) =>
    (fn.events ?? [])
      .filter((event) => event.eventBridge?.pattern !== undefined)
      .map((event) => ({
        functionName: `${deployment.service}-${deployment.stage}-${name}`,
        pattern: resolve(event.eventBridge!.pattern) as EventPattern,
      })),
  );
}

/** EventBridge's matching: every key of the pattern present in the event, its value one of those listed. */
export function matchesPattern(pattern: EventPattern, event: Node): boolean {
  if (!event || typeof event !== 'object') return false;
  return Object.entries(pattern).every(([key, wanted]) => {
    const value = (event as Record<string, Node>)[key];
    if (!Array.isArray(wanted)) return matchesPattern(wanted as EventPattern, value);
    if (wanted.some((candidate) => candidate !== null && typeof candidate === 'object')) {
      throw new Error(`the local EventBridge matches exact values only, not ${JSON.stringify(wanted)}`);
    }
    const values = Array.isArray(value) ? value : [value];
    return values.some((candidate) => (wanted as readonly Node[]).includes(candidate));
  });
}

/** Lambda's retries of an asynchronous invocation whose function failed. */
const ASYNC_ATTEMPTS = 3;

/** Puts an event on the bus: each rule it matches invokes its function, without waiting for it. */
export function localEventBus(rules: readonly EventRule[], invoke: LambdaInvoker, logger: Logger, retryDelayMs = 1000): (event: Node) => void {
  const deliver = async (rule: EventRule, event: Node): Promise<void> => {
    for (let attempt = 1; attempt <= ASYNC_ATTEMPTS; attempt += 1) {
      try {
        await invoke(rule.functionName, event);
        return;
      } catch (error) {
        logger.warn('Local EventBridge target failed', { functionName: rule.functionName, attempt, error });
        if (attempt < ASYNC_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  };
  return (event) => {
    for (const rule of rules.filter((candidate) => matchesPattern(candidate.pattern, event))) {
      void deliver(rule, event);
    }
  };
}
