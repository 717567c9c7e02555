import type { AddressInfo, Server } from 'node:net';

/** Listens on `host:port` (0: any free port) and resolves with the port, or rejects if it cannot listen (in use). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}
