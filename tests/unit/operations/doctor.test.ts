/** The server side of `calms doctor`: which checks run, what each reports and what it says to fix, with fakes. */
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { ClusterAuthenticationError, ClusterUnreachableError, HostKeyMismatchError } from '../../../lib/cluster/errors';
import { ConfigurationError } from '../../../lib/config';
import { ArchiveUnavailableError, MailUnavailableError } from '../../../lib/errors';
import { makeDoctorHandler } from '../../../lib/handlers/operations';
import { ABSENT_MOUS, type DoctorDeps, runDoctor } from '../../../lib/operations/doctor';
import { dataBucketLifecycleRules } from '../../../lib/storage/lifecycle';
import { FakeArchive, RecordingLogger } from '../fakes';

const NODES = ['node1.arc.test:22', 'node2.arc.test:2222'];
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:calms-prod';

/** An archive whose every MOUS lookup does what `findMous` does. */
function archiveWhose(findMous: FakeArchive['findMous']): FakeArchive {
  const archive = new FakeArchive();
  archive.findMous = findMous;
  return archive;
}

/** Every outside system well, unless a test says otherwise. */
function deps(overrides: Partial<DoctorDeps> & { loginFailures?: Record<string, Error | 'hang'> } = {}) {
  const { loginFailures = {}, ...rest } = overrides;
  const loggedIn: string[] = [];
  const archive = new FakeArchive();
  const log = new RecordingLogger();
  const value: DoctorDeps = {
    stateMachineArn: ARN,
    stateMachine: { stateMachine: async () => ({ name: 'calms-prod', status: 'ACTIVE' }) },
    dataBucket: 'calms-prod-data',
    bucket: { rules: async () => dataBucketLifecycleRules(28) },
    expectedLifecycleRules: dataBucketLifecycleRules(28),
    archive,
    smtp: { host: 'smtp.arc.test', port: 587, requireTls: true },
    mailRelay: { verify: async () => undefined },
    cluster: async () => ({
      nodes: NODES,
      login: {
        logIn: async (node) => {
          const failure = loginFailures[node];
          if (failure === 'hang') return new Promise<void>(() => undefined);
          if (failure) throw failure;
          loggedIn.push(node);
        },
      },
    }),
    timeoutMs: 200,
    log,
    ...rest,
  };
  return { deps: value, archive, loggedIn, log };
}

async function checks(value: DoctorDeps) {
  const result = await runDoctor(value);
  expect(result.status).toBe(200);
  return (result.body as { checks: { name: string; ok: boolean; detail: string; fix?: string }[] }).checks;
}

const never = () => new Promise<never>(() => undefined);

describe('runDoctor', () => {
  it('all well: one passing check per system and per node, in order, without a fix', async () => {
    // Prepare
    const { deps: value, archive, loggedIn } = deps();

    // Act
    const found = await checks(value);

    // Assess
    expect(found.map((check) => [check.name, check.ok, check.detail])).toEqual([
      ['state machine', true, 'calms-prod exists (ACTIVE)'],
      ['data bucket calms-prod-data', true, 'carries the lifecycle rules expire-deliveries and abort-incomplete-uploads'],
      ['archive', true, 'answers a lookup'],
      ['SMTP relay smtp.arc.test:587', true, 'accepts a session over STARTTLS'],
      ['SSH node1.arc.test:22', true, 'lets the cluster user in, with the pinned host key'],
      ['SSH node2.arc.test:2222', true, 'lets the cluster user in, with the pinned host key'],
    ]);
    expect(found.every((check) => check.fix === undefined)).toBe(true);
    expect(archive.calls).toEqual([{ method: 'findMous', args: [ABSENT_MOUS] }]);
    expect(loggedIn.sort()).toEqual(NODES);
  });

  it('a relay that does not answer and a node that is down fail with their fix; the other checks still pass', async () => {
    // Prepare
    const { deps: value, log } = deps({
      mailRelay: {
        verify: () => Promise.reject(new MailUnavailableError('the SMTP relay smtp.arc.test:587 did not accept a session: ECONNREFUSED')),
      },
      loginFailures: { [NODES[1]!]: new ClusterUnreachableError(`${NODES[1]}: ECONNREFUSED connect ECONNREFUSED`) },
    });

    // Act
    const found = await checks(value);

    // Assess
    expect(found.map((check) => check.ok)).toEqual([true, true, true, false, true, false]);
    expect(found[3]!.detail).toContain('ECONNREFUSED');
    expect(found[3]!.fix).toMatch(/CALMS_SMTP_HOST, CALMS_SMTP_PORT/);
    expect(found[5]!.fix).toBe(
      `Start the node or its sshd, or open the way to ${NODES[1]} (CALMS_CLUSTER_NODES, the security group's outbound rules).`,
    );
    expect(log.lines.filter((line) => line.level === 'warn').map((line) => line.keys.check)).toEqual([
      'SMTP relay smtp.arc.test:587',
      `SSH ${NODES[1]}`,
    ]);
  });

  it('a check that never answers fails at its time limit, and the others are not held up', async () => {
    // Prepare
    const { deps: value } = deps({ archive: archiveWhose(never), loginFailures: { [NODES[0]!]: 'hang' } });

    // Act
    const found = await checks(value);

    // Assess
    expect(found.filter((check) => !check.ok).map((check) => [check.name, check.detail])).toEqual([
      ['archive', 'no answer within 0.2 s'],
      [`SSH ${NODES[0]}`, 'no answer within 0.2 s'],
    ]);
    expect(found.filter((check) => check.ok)).toHaveLength(4);
  });

  it.each([
    [
      'a host key not pinned',
      new HostKeyMismatchError('node1.arc.test: presented host key SHA256:abc, which is not the pinned one'),
      /CALMS_CLUSTER_KNOWN_HOSTS \(ssh-keyscan -p 22 node1\.arc\.test/,
    ],
    [
      'the cluster key refused',
      new ClusterAuthenticationError("node1.arc.test:22 refused the cluster user's key"),
      /authorized_keys of CALMS_CLUSTER_USER/,
    ],
  ])('a node refusing SSH (%s) says what to fix about that', async (_case, error, fix) => {
    // Prepare
    const { deps: value } = deps({ loginFailures: { [NODES[0]!]: error } });

    // Act
    const [node] = (await checks(value)).filter((check) => !check.ok);

    // Assess
    expect(node).toEqual({ name: `SSH ${NODES[0]}`, ok: false, detail: error.message, fix: expect.stringMatching(fix) });
  });

  it('cluster settings that cannot be read are one failed line in place of the nodes', async () => {
    // Prepare
    const { deps: value } = deps({
      cluster: () => Promise.reject(new ConfigurationError('CALMS_CLUSTER_KNOWN_HOSTS: line 1: unsupported key type ssh-dss')),
    });

    // Act
    const found = await checks(value);

    // Assess
    expect(found.at(-1)).toEqual({
      name: 'cluster',
      ok: false,
      detail: 'CALMS_CLUSTER_KNOWN_HOSTS: line 1: unsupported key type ssh-dss',
      fix: expect.stringContaining('CALMS_CLUSTER_*'),
    });
    expect(found).toHaveLength(5);
  });

  it('reading the cluster key that never answers is the cluster line failing at the time limit', async () => {
    // Prepare
    const { deps: value } = deps({ cluster: never });

    // Act
    const found = await checks(value);

    // Assess
    expect(found.at(-1)).toMatchObject({ name: 'cluster', ok: false, detail: 'no answer within 0.2 s' });
  });

  it('a missing state machine, an unavailable archive and a bucket without its rules each fail with a fix', async () => {
    // Prepare
    const rules: LifecycleRule[] = [{ ...dataBucketLifecycleRules(28)[0]!, Expiration: { Days: 30 } }];
    const { deps: value } = deps({
      stateMachine: { stateMachine: async () => undefined },
      bucket: { rules: async () => rules },
      archive: archiveWhose(() => Promise.reject(new ArchiveUnavailableError('the archive database is locked'))),
    });

    // Act
    const [machine, bucket, archive] = await checks(value);

    // Assess
    expect(machine).toEqual({
      name: 'state machine',
      ok: false,
      detail: `there is no state machine ${ARN}`,
      fix: expect.stringContaining('CALMS_STATE_MACHINE_ARN'),
    });
    expect(bucket!.detail).toBe('its lifecycle rules differ: rule expire-deliveries: expiry days 30, expected 28; no rule abort-incomplete-uploads');
    expect(bucket!.fix).toContain('Deploy the stack again');
    expect(archive).toEqual({
      name: 'archive',
      ok: false,
      detail: 'the archive database is locked',
      fix: expect.stringContaining('archive database'),
    });
  });

  it('GET /doctor answers 200 with the checks, failed ones included', async () => {
    // Prepare
    const { deps: value } = deps({ stateMachine: { stateMachine: async () => ({ name: 'calms-prod', status: 'DELETING' }) } });

    // Act
    const response = await makeDoctorHandler(value)({ httpMethod: 'GET', path: '/doctor', pathParameters: null } as never);

    // Assess
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as { checks: { name: string; ok: boolean; detail: string }[] };
    expect(body.checks[0]).toMatchObject({ name: 'state machine', ok: false, detail: 'calms-prod is DELETING' });
    expect(body.checks.slice(1).every((check) => check.ok)).toBe(true);
  });
});
