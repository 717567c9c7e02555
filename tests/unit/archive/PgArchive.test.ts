/**
 * What PgArchive does when no PostgreSQL answers, which needs no server; the queries against a real one are
 * the contract in tests/integration/archive.test.ts.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { parseArchiveUrl, PgArchive, type PostgresLocation } from '../../../lib/archive';
import { ArchiveError, ArchiveUnavailableError } from '../../../lib/errors';
import { createLogger } from '../../../lib/log';
import { errorOf } from '../../errorOf';

const quiet = createLogger({}, () => undefined);

async function listening(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

const location = (port: number) => parseArchiveUrl(`postgres://calms@127.0.0.1:${port}/archive`) as PostgresLocation;

describe('PgArchive without a server that answers', () => {
  it('connects to nothing in the constructor', () => {
    // Act
    const build = () => new PgArchive(location(1), { logger: quiet, password: () => Promise.reject(new Error('not to be read')) });

    // Assess
    expect(build).not.toThrow();
  });

  it('a refused connection is ArchiveUnavailableError naming the lookup and the database', async () => {
    // Prepare: a port nobody listens on any more
    const { server, port } = await listening(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    const archive = new PgArchive(location(port), { logger: quiet, password: async () => 'pw' });

    // Act
    const error = await errorOf(archive.findMous('uid___A001_X1296_X675'));
    await archive.close();

    // Assess
    expect(error).toBeInstanceOf(ArchiveUnavailableError);
    expect(error.message).toContain(`archive lookup of MOUS uid___A001_X1296_X675 in postgres://calms@127.0.0.1:${port}/archive failed`);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a server that accepts the connection but never answers is ArchiveUnavailableError after the connect timeout', async () => {
    // Prepare
    const sockets: Socket[] = [];
    const { server, port } = await listening((socket) => sockets.push(socket));
    const archive = new PgArchive(location(port), { logger: quiet, password: async () => 'pw', connectTimeoutMs: 300 });

    // Act
    const error = await errorOf(archive.findProjectPi('2017.1.00727.S'));
    await archive.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));

    // Assess
    expect(sockets.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(ArchiveUnavailableError);
    expect(error.message).toContain('the PI of project 2017.1.00727.S');
  });

  it('a CA file that is not there is ArchiveError naming it, before anything is sent', async () => {
    // Prepare
    const { server, port } = await listening((socket) => socket.destroy());
    const archive = new PgArchive(
      parseArchiveUrl(`postgres://calms:pw@127.0.0.1:${port}/archive?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem`) as PostgresLocation,
      {
        logger: quiet,
      },
    );

    // Act
    const error = await errorOf(archive.findProjectPi('2017.1.00727.S'));
    await archive.close();
    await new Promise((resolve) => server.close(resolve));

    // Assess
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error.message).toContain('/nonexistent/ca.pem');
  });

  it('a password secret that cannot be read is ArchiveError saying so, and is read again next time', async () => {
    // Prepare: a server that asks for a password
    const sockets: Socket[] = [];
    const { server, port } = await listening((socket) => {
      sockets.push(socket);
      // AuthenticationCleartextPassword: 'R', length 8, code 3.
      socket.once('data', () => socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])));
    });
    let reads = 0;
    const archive = new PgArchive(location(port), {
      logger: quiet,
      password: async () => {
        reads += 1;
        throw new Error('the secret calms/prod/archive-password holds no text');
      },
    });

    // Act
    const first = await errorOf(archive.findProjectPi('2017.1.00727.S'));
    const second = await errorOf(archive.findProjectPi('2017.1.00727.S'));
    await archive.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));

    // Assess
    expect(first).toBeInstanceOf(ArchiveError);
    expect(first.message).toContain('could not read the database password: the secret calms/prod/archive-password holds no text');
    expect(second).toBeInstanceOf(ArchiveError);
    expect(reads).toBe(2);
  });
});
