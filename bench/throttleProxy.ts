/**
 * A TCP proxy that stands for a network link: each connection, in each direction, carries at most
 * `bytesPerSecond` and delivers every byte `latencyMs` after it left. bench/transfer.ts puts the local S3 behind
 * one (one S3 connection from a function) and the emulated cluster's SSH behind another; the staging
 * integration test uses {@link ThrottleProxy.dropAll} to cut an SSH connection mid-stream.
 *
 * Backpressure is kept: a direction holds at most {@link QUEUE_BYTES} before it stops reading, so a sender
 * is held up as by a real slow link rather than filling the proxy's memory.
 */
import net from 'node:net';

export interface LinkSettings {
  /** Per connection and direction; undefined: as fast as the machine goes. */
  readonly bytesPerSecond?: number;
  /** One way, per connection and direction. */
  readonly latencyMs?: number;
}

export interface ThrottleProxy {
  /** host:port the proxy listens on. */
  readonly address: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connectionsAccepted: number;
  /** Cuts every open connection at once, as a network failure would. */
  dropAll(): void;
  close(): Promise<void>;
}

const QUEUE_BYTES = 1024 * 1024;

/** Forwards `from` to `to` at the link's pace. */
function pace(from: net.Socket, to: net.Socket, link: LinkSettings): void {
  const queue: { readonly chunk: Buffer; readonly deliverAt: number }[] = [];
  let queued = 0;
  let linkFreeAt = 0;
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  let waitingForDrain = false;

  const pump = (): void => {
    timer = undefined;
    while (queue.length > 0 && !waitingForDrain) {
      const wait = queue[0]!.deliverAt - performance.now();
      if (wait > 0) {
        timer = setTimeout(pump, Math.ceil(wait));
        return;
      }
      const { chunk } = queue.shift()!;
      queued -= chunk.length;
      if (queued < QUEUE_BYTES / 2) from.resume();
      if (!to.write(chunk)) {
        waitingForDrain = true;
        to.once('drain', () => {
          waitingForDrain = false;
          pump();
        });
      }
    }
    if (queue.length === 0 && ended) to.end();
  };

  from.on('data', (chunk: Buffer) => {
    const now = performance.now();
    // Serialised on the link at its rate, then `latencyMs` on the way.
    const start = Math.max(now, linkFreeAt);
    linkFreeAt = start + (link.bytesPerSecond ? (chunk.length / link.bytesPerSecond) * 1000 : 0);
    queue.push({ chunk, deliverAt: linkFreeAt + (link.latencyMs ?? 0) });
    queued += chunk.length;
    if (queued >= QUEUE_BYTES) from.pause();
    if (!timer && !waitingForDrain) pump();
  });
  from.on('end', () => {
    ended = true;
    if (!timer && !waitingForDrain) pump();
  });
  // Bytes still on the way when the sender closes are delivered; only a closed receiver drops them.
  to.on('close', () => {
    if (timer) clearTimeout(timer);
    queue.length = 0;
  });
}

export async function startThrottleProxy(target: { host: string; port: number }, link: LinkSettings, host = '127.0.0.1'): Promise<ThrottleProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  // Half-open, so that each direction ends when its sender's last byte has been delivered, as on a real link.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    accepted += 1;
    const upstream = net.connect({ port: target.port, host: target.host, allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // Either side failing ends both, as a cut link would.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    pace(client, upstream, link);
    pace(upstream, client, link);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `${host}:${port}`,
    port,
    get connectionsAccepted() {
      return accepted;
    },
    dropAll() {
      for (const socket of sockets) socket.resetAndDestroy();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
