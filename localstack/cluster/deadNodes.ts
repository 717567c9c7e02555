/**
 * Nodes that fail the way real ones do, for the node-choice tests: one that accepts TCP connections but
 * never speaks SSH (a hung sshd: only a timeout reveals it), and a port nobody listens on (a node that is down).
 */
import { createServer, type Socket } from 'node:net';
import { listen } from '../listen';

export interface SilentNode {
  /** `host:port`. */
  readonly node: string;
  close(): Promise<void>;
}

export async function startSilentNode(host = '127.0.0.1'): Promise<SilentNode> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  const port = await listen(server, 0, host);
  return {
    node: `${host}:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((closed) => server.close(() => closed()));
    },
  };
}

/** `host:port` of a port that was free a moment ago and is closed now, so connecting is refused. */
export async function closedPortNode(host = '127.0.0.1'): Promise<string> {
  const server = createServer();
  const port = await listen(server, 0, host);
  await new Promise<void>((closed) => server.close(() => closed()));
  return `${host}:${port}`;
}
