import net from 'node:net';
import { ClusterUnreachableError } from '../../lib/cluster/errors';
import { KnownHosts } from '../../lib/cluster/knownHosts';
import { runRemote } from '../../lib/cluster/sshConnection';
import { boundedTimeoutMs, reserveMs, timeLeftMs, withInvocationDeadline } from '../../lib/invocation';
import { generateSshKeyPair } from '../../localstack/cluster/keys';
import { RecordingLogger } from './fakes';

/** A Lambda context that has `remainingMs` left at every question, as at the start of an invocation. */
const invocation = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs });

describe("timeouts derived from the invocation's remaining time", () => {
  it('leaves a call its configured timeout outside an invocation (tests, the CLI)', () => {
    // Act
    const timeout = boundedTimeoutMs(120_000);

    // Assess
    expect(timeout).toBe(120_000);
    expect(timeLeftMs()).toBeUndefined();
  });

  it("gives a cancel's SSH command (120 s + 10 s to connect) what 29 s leave after the answer's reserve", () => {
    // Act
    const timeout = withInvocationDeadline(
      invocation(29_000),
      () => boundedTimeoutMs(130_000, Date.now()),
      () => Date.now(),
    );

    // Assess
    expect(reserveMs(29_000)).toBe(7_250);
    expect(timeout).toBeLessThanOrEqual(21_750);
    expect(timeout).toBeGreaterThan(21_000);
  });

  it("gives CheckCalibrationJob's second command only what its 180 s have left after the first", () => {
    // Prepare
    const start = 1_000_000;
    const clock = { now: start };

    // Act
    const [first, second, late] = withInvocationDeadline(
      invocation(180_000),
      () => [boundedTimeoutMs(120_000, start), boundedTimeoutMs(120_000, start + 100_000), boundedTimeoutMs(120_000, start + 200_000)],
      () => clock.now,
    );

    // Assess: 15 s stay for the Lambda's answer.
    expect(first).toBe(120_000);
    expect(second).toBe(65_000);
    expect(late).toBe(0);
  });

  it("keeps each invocation's deadline to itself when invocations overlap in one process", async () => {
    // Act
    const [short, long] = await Promise.all([
      withInvocationDeadline(invocation(8_000), async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return boundedTimeoutMs(120_000);
      }),
      withInvocationDeadline(invocation(900_000), async () => boundedTimeoutMs(120_000)),
    ]);

    // Assess
    expect(short).toBeLessThanOrEqual(6_000);
    expect(long).toBe(120_000);
  });
});

describe('a cluster call on a node that does not answer', () => {
  let silentNode: net.Server;
  let port: number;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    // Accepts the connection and never says a word, like a node too busy to run sshd.
    silentNode = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silentNode.listen(0, '127.0.0.1', resolve));
    port = (silentNode.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silentNode.close(resolve));
  });

  it('ends in ClusterUnreachableError within what the invocation has left, not at its configured 120 s', async () => {
    // Prepare
    const keys = generateSshKeyPair();
    const [type, base64] = keys.public.split(' ');
    const settings = {
      user: 'arcproc',
      privateKey: keys.private,
      knownHosts: KnownHosts.parse(`[127.0.0.1]:${port} ${type} ${base64}`),
      connectTimeoutMs: 10_000,
    };
    const call = { operation: 'cancel', command: 'true', timeoutMs: 120_000 };

    // Act: an invocation with 2 s left keeps 0.5 s for its answer.
    const result = withInvocationDeadline(invocation(2_000), () => runRemote(`127.0.0.1:${port}`, settings, call, new RecordingLogger()));

    // Assess
    await expect(result).rejects.toBeInstanceOf(ClusterUnreachableError);
    await expect(result).rejects.toThrow(/did not finish cancel within the 1[0-9]{3} ms its function had left/);
  });
});
