/**
 * One SSH connection per call: connect with the pinned host keys, run one command, disconnect. Every ssh2
 * failure is translated here into the errors of ./errors.ts, and every call logs one line.
 */
import { PassThrough, type Readable } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { boundedTimeoutMs } from '../invocation';
import type { Logger } from '../log';
import { ClusterAuthenticationError, ClusterCommandError, ClusterProtocolError, ClusterUnreachableError, HostKeyMismatchError } from './errors';
import { knownHostsName, type KnownHosts } from './knownHosts';
import { parseNode } from './nodes';

export interface SshSettings {
  readonly user: string;
  /** OpenSSH or PEM private key text. */
  readonly privateKey: string;
  readonly knownHosts: KnownHosts;
  /** How long a node may take from TCP connect to a finished SSH handshake. */
  readonly connectTimeoutMs: number;
}

export interface RemoteCommand {
  /** Names the call in the log line, e.g. `status`. */
  readonly operation: string;
  readonly command: string;
  readonly stdin?: string;
  /**
   * For the whole call, connection included; a node that takes longer counts as unreachable. Never more than the
   * function invocation has left (lib/invocation.ts), so a slow node ends in ClusterUnreachableError, not in the
   * platform's timeout.
   */
  readonly timeoutMs: number;
}

export interface RemoteResult {
  /** Null when the command was ended by a signal. */
  readonly exitCode: number | null;
  readonly signal?: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Sends keepalives so a node that vanishes mid-call is noticed even while no data flows. */
const KEEPALIVE = { keepaliveInterval: 15_000, keepaliveCountMax: 4 } as const;

type SshError = Error & { level?: string; code?: string };

interface Connection {
  readonly client: Client;
  /** The translated error for anything ssh2 reports on this connection. */
  translate(error: SshError): Error;
}

/**
 * Connects and calls `onReady` once authenticated, or `onError` with a translated error. Refuses, without
 * touching the network, a node that has no pinned host key.
 */
function connect(node: string, settings: SshSettings, onReady: (connection: Connection) => void, onError: (error: Error) => void): Client {
  const address = parseNode(node);
  const client = new Client();
  let hostKeyRejection: string | undefined;
  const translate = (error: SshError): Error => translateSshError(node, error, hostKeyRejection);
  const algorithms = settings.knownHosts.algorithmsFor(address);
  if (algorithms.length === 0) {
    queueMicrotask(() => onError(new HostKeyMismatchError(`${node}: no host key is pinned for ${knownHostsName(address)}`)));
    return client;
  }
  client.on('ready', () => onReady({ client, translate }));
  client.on('error', (error: SshError) => onError(translate(error)));
  client.on('close', () => onError(new ClusterUnreachableError(`${node} closed the connection before the command finished`)));
  const config: ConnectConfig = {
    host: address.host,
    port: address.port,
    username: settings.user,
    privateKey: settings.privateKey,
    readyTimeout: settings.connectTimeoutMs,
    ...KEEPALIVE,
    // Offer only the algorithms of the pinned keys, so a node holding several keys presents a pinned one.
    algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
    hostVerifier: (presented: Buffer) => {
      const verdict = settings.knownHosts.check(address, presented);
      if (!verdict.trusted) hostKeyRejection = verdict.reason;
      return verdict.trusted;
    },
  };
  client.connect(config);
  // Every call is a few small request/response packets: without this, Nagle's algorithm and delayed ACKs
  // add tens of milliseconds to each of the half-dozen round trips of a connection.
  client.setNoDelay(true);
  return client;
}

/** ssh2 tells failures apart by `level`; the host key verdict is known only to our hostVerifier. */
export function translateSshError(node: string, error: SshError, hostKeyRejection?: string): Error {
  if (hostKeyRejection !== undefined) return new HostKeyMismatchError(`${node}: ${hostKeyRejection}`);
  // ssh2 files a connection dropped before the SSH banner under 'protocol', but it is the network (or a node
  // going down) that dropped it, not an SSH server CalMS cannot speak to.
  if (error.message === 'Connection lost before handshake') {
    return new ClusterUnreachableError(`${node}: the connection was dropped before the SSH handshake`);
  }
  switch (error.level) {
    case 'client-authentication':
      return new ClusterAuthenticationError(`${node} refused the cluster user's key`);
    case 'protocol':
    case 'handshake':
      return new ClusterProtocolError(`${node}: ${error.message}`);
    default:
      // client-socket (ECONNREFUSED, ECONNRESET, EHOSTUNREACH, DNS), client-timeout, a refused channel.
      return new ClusterUnreachableError(`${node}: ${error.code ? `${error.code} ` : ''}${error.message}`);
  }
}

/** Runs one command on `node` and collects its output. A non-zero exit is a result, not an error. */
export function runRemote(node: string, settings: SshSettings, call: RemoteCommand, log: Logger): Promise<RemoteResult> {
  const started = Date.now();
  const timeoutMs = boundedTimeoutMs(call.timeoutMs, started);
  const within = timeoutMs < call.timeoutMs ? `within the ${timeoutMs} ms its function had left` : `within ${timeoutMs} ms`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: { result: RemoteResult } | { error: Error }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('close');
      client.end();
      const keys = { node, operation: call.operation, durationMs: Date.now() - started };
      if ('error' in outcome) {
        client.destroy();
        log.warn('cluster call failed', { ...keys, errorName: outcome.error.name, errorMessage: outcome.error.message });
        reject(outcome.error);
      } else {
        log.info('cluster call', { ...keys, exitCode: outcome.result.exitCode ?? undefined, signal: outcome.result.signal });
        resolve(outcome.result);
      }
    };
    const timer = setTimeout(() => settle({ error: new ClusterUnreachableError(`${node} did not finish ${call.operation} ${within}`) }), timeoutMs);
    const client = connect(
      node,
      { ...settings, connectTimeoutMs: Math.min(settings.connectTimeoutMs, timeoutMs) },
      ({ client: connected, translate }) => {
        connected.exec(call.command, (error, channel) => {
          if (error) return settle({ error: translate(error) });
          collect(channel, call.stdin, (result) => settle({ result }));
        });
      },
      (error) => settle({ error }),
    );
  });
}

function collect(channel: ClientChannel, stdin: string | undefined, done: (result: RemoteResult) => void): void {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let exitCode: number | null = null;
  let signal: string | undefined;
  channel.on('data', (chunk: Buffer) => stdout.push(chunk));
  channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  channel.on('exit', (code: number | null, signalName?: string) => {
    exitCode = code;
    signal = signalName;
  });
  channel.on('close', () =>
    done({ exitCode, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }),
  );
  channel.end(stdin);
}

/**
 * Runs one command on `node` and streams its standard output as it arrives. The stream fails with a
 * translated error when the connection does, and with ClusterCommandError when the command exits non-zero.
 */
export function streamRemote(node: string, settings: SshSettings, call: Omit<RemoteCommand, 'timeoutMs'>, log: Logger): Readable {
  const started = Date.now();
  const output = new PassThrough();
  let finished = false;
  const finish = (error?: Error) => {
    if (finished) return;
    finished = true;
    client.removeAllListeners('close');
    client.end();
    const keys = { node, operation: call.operation, durationMs: Date.now() - started };
    if (error) {
      client.destroy();
      log.warn('cluster call failed', { ...keys, errorName: error.name, errorMessage: error.message });
      output.destroy(error);
    } else {
      log.info('cluster call', { ...keys, exitCode: 0 });
      output.end();
    }
  };
  // A reader that gives up early must not leave the connection open.
  output.on('close', () => finish(new ClusterCommandError(`${call.operation} on ${node} was abandoned by its reader`)));
  const client = connect(
    node,
    settings,
    ({ client: connected, translate }) => {
      connected.exec(call.command, (error, channel) => {
        if (error) return finish(translate(error));
        const stderr: Buffer[] = [];
        let exitCode: number | null = null;
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('exit', (code: number | null) => {
          exitCode = code;
        });
        channel.pipe(output, { end: false });
        channel.on('close', () =>
          finish(
            exitCode === 0
              ? undefined
              : new ClusterCommandError(
                  `${call.operation} on ${node} exited with status ${exitCode}: ${Buffer.concat(stderr).toString('utf8').trim()}`,
                ),
          ),
        );
        channel.end(call.stdin);
      });
    },
    (error) => finish(error),
  );
  return output;
}
