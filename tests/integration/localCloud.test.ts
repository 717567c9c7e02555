/**
 * Issue 2's "done when" on the whole embedded local cloud. The shared cloud globalSetup started is driven the
 * way an operator and CalMS drive it: the aws CLI and the AWS SDK through the edge, SMTP, MailDev's REST API
 * and the CalMS API. A second cloud, started here as `npm start` on ports and a state directory of its own, is
 * stopped and started again to check the banner, a clean stop and that executions survive a restart.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { createSfnClient } from '../../lib/aws/clients';
import { cliConfig, localEnvironment, serviceConfig } from '../../lib/config';
import { localCloudConfig } from '../../localstack/config';
import { SmtpMailer } from '../../lib/mail/SmtpMailer';
import { READY_LINE } from '../../localstack/cloud';
import { executionHistory, mailbox, postRequest, s3, service, waitForExecution } from './support/clients';
import { describeWithAwsCli } from './support/awsCli';
import { eventually } from './support/eventually';
import { testRequests } from './support/requests';
import { FAILING_MOUS } from './support/testCloud';

const ROOT = path.resolve(__dirname, '../..');
const execFileAsync = promisify(execFile);

/**
 * A request whose execution ends within seconds and touches no cluster: the MOUS is public, but the archive
 * knows no such user, so AOG's answer is INVALID MOUS UID. No other integration test uses this MOUS.
 */
const QUICK_REQUEST = {
  projectCode: '2015.1.00888.S',
  userName: 'Nobody Known',
  userEmail: 'nobody@example.org',
  helpdeskTicket: '74001',
  arcContact: 'arc.staff@example.org',
  mous: ['uid://A001/X2f1e/X108'],
};

/** The aws CLI on its own: no credentials or region of this process, so that what the test gives is what it uses. */
function awsCliEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const own = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return { ...own, AWS_PAGER: '', ...extra };
}

/** Runs the aws CLI against the shared cloud's edge and returns its stdout. */
async function aws(env: Record<string, string>, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('aws', ['--endpoint-url', service().awsEndpoint!, ...args], {
    env: awsCliEnvironment(env),
    timeout: 60_000,
  });
  return stdout;
}

/**
 * The README's shell lines that set up and run the aws CLI (`export AWS_…` and `aws …`, a trailing backslash
 * joining lines), with its endpoint replaced by the shared cloud's edge.
 */
function readmeAwsCommands(): string[] {
  // "Deploy to AWS" talks to AWS itself, not to the local cloud.
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').replace(/\n## Deploy to AWS\n[\s\S]*?(?=\n## )/, '\n');
  const shellBlocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, body]) => body!.replace(/\\\n\s*/g, ''));
  return shellBlocks
    .flatMap((block) => block.split('\n'))
    .filter((line) => /^(export AWS_|aws )/.test(line))
    .map((line) => line.replaceAll('http://localhost:4566', service().awsEndpoint!));
}

/** A request that keeps its trigger: the stand-in casa fails, and a failed request awaits a re-drive. */
const requests = testRequests(84000);

describeWithAwsCli('the aws CLI through the edge', () => {
  const LOCALSTACK_HABIT = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' };

  test("the README's export and aws commands, run as written after a request, list its execution and its trigger", async () => {
    // Prepare
    const commands = readmeAwsCommands();
    expect(commands).toEqual([
      expect.stringMatching(/^export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test /),
      expect.stringContaining('stepfunctions list-executions'),
      expect.stringContaining('s3 ls'),
    ]);
    const accepted = await requests.submit(FAILING_MOUS);
    expect((await waitForExecution(accepted.executionArn)).status).toBe('FAILED');

    // Act
    const { stdout } = await execFileAsync('bash', ['-euo', 'pipefail', '-c', commands.join('\n')], { env: awsCliEnvironment({}), timeout: 120_000 });

    // Assess
    expect(stdout).toContain(`"executionArn": "${accepted.executionArn}"`);
    expect(stdout).toContain(accepted.triggerName);
  });

  test('stepfunctions list-state-machines lists the CalMS state machine', async () => {
    // Act
    const { stateMachines } = JSON.parse(await aws(LOCALSTACK_HABIT, 'stepfunctions', 'list-state-machines', '--output', 'json'));

    // Assess
    expect(stateMachines).toContainEqual(expect.objectContaining({ name: 'calms-local', stateMachineArn: service().stateMachineArn }));
  });

  test('any credentials do: a real-looking key with a session token, or none at all (--no-sign-request)', async () => {
    // Prepare
    const realLooking = {
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEXAMPLE',
      AWS_DEFAULT_REGION: 'eu-west-1',
    };
    const key = `local-cloud-test/any-credentials-${randomUUID()}`;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'calms-aws-')), 'object.txt');
    fs.writeFileSync(file, 'copied with a real-looking key');

    // Act
    await aws(realLooking, 's3', 'cp', file, `s3://${service().dataBucket}/${key}`);
    const listed = await aws({ AWS_DEFAULT_REGION: 'us-east-1' }, '--no-sign-request', 's3', 'ls', `s3://${service().dataBucket}/${key}`);
    const machines = await aws({ AWS_DEFAULT_REGION: 'us-east-1' }, '--no-sign-request', 'stepfunctions', 'list-state-machines', '--output', 'json');

    // Assess
    expect(listed).toMatch(/ 30 any-credentials-/);
    expect(JSON.parse(machines).stateMachines).toContainEqual(expect.objectContaining({ name: 'calms-local' }));
  });

  test('a request to the API runs a real Lambda through serverless-offline: get-execution-history shows it, s3 ls what it recorded', async () => {
    // Prepare
    const response = await postRequest(QUICK_REQUEST);
    expect(response.status).toBe(202);
    const [{ requestId, executionArn }] = response.body.results;
    await waitForExecution(executionArn);

    // Act
    const { events } = JSON.parse(
      await aws(LOCALSTACK_HABIT, 'stepfunctions', 'get-execution-history', '--execution-arn', executionArn, '--output', 'json'),
    ) as {
      events: HistoryEvent[];
    };
    const sentMails = await aws(LOCALSTACK_HABIT, 's3', 'ls', `s3://${service().dataBucket}/requests/${requestId}/sent/`);

    // Assess
    const isEmailRequestToAog = (event: HistoryEvent) =>
      (event.stateEnteredEventDetails ?? event.stateExitedEventDetails)?.name === 'EmailRequestToAog';
    const entered = events.findIndex((event) => event.type === 'TaskStateEntered' && isEmailRequestToAog(event));
    const exited = events.findIndex((event) => event.type === 'TaskStateExited' && isEmailRequestToAog(event));
    expect(entered).toBeGreaterThan(0);
    expect(events.slice(entered + 1, exited).map((event) => event.type)).toEqual([
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
    ]);
    expect(events[entered + 1]!.lambdaFunctionScheduledEventDetails?.resource).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:calms-local-emailRequestToAog',
    );
    expect(sentMails).toMatch(/ request$/m);
  });
});

describe('S3 through the edge', () => {
  let client: S3Client;
  const Bucket = () => service().dataBucket;
  const newKey = (what: string) => `local-cloud-test/${what}-${randomUUID()}`;
  const textOf = async (Key: string) => (await client.send(new GetObjectCommand({ Bucket: Bucket(), Key }))).Body!.transformToString();
  const PRECONDITION_FAILED = { name: 'PreconditionFailed', $metadata: expect.objectContaining({ httpStatusCode: 412 }) };

  beforeAll(() => {
    client = s3();
  });

  afterAll(() => client.destroy());

  test('streams a 20 MiB object in and out unchanged', async () => {
    // Prepare
    const size = 20 * 1024 * 1024;
    const data = randomBytes(size);
    const inMebibytes = function* () {
      for (let start = 0; start < size; start += 1024 * 1024) yield data.subarray(start, start + 1024 * 1024);
    };
    const Key = newKey('streamed');

    // Act
    await client.send(new PutObjectCommand({ Bucket: Bucket(), Key, Body: Readable.from(inMebibytes()), ContentLength: size }));
    const object = await client.send(new GetObjectCommand({ Bucket: Bucket(), Key }));
    const received = createHash('sha256');
    let receivedBytes = 0;
    for await (const chunk of object.Body as Readable) {
      received.update(chunk as Buffer);
      receivedBytes += (chunk as Buffer).length;
    }

    // Assess
    expect(object.ContentLength).toBe(size);
    expect(receivedBytes).toBe(size);
    expect(received.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });

  test('a second PutObject with If-None-Match * to the same key is refused with 412 PreconditionFailed', async () => {
    // Prepare
    const Key = newKey('claimed');

    // Act
    const first = await client.send(new PutObjectCommand({ Bucket: Bucket(), Key, Body: 'first', IfNoneMatch: '*' }));
    const second = client.send(new PutObjectCommand({ Bucket: Bucket(), Key, Body: 'second', IfNoneMatch: '*' }));

    // Assess
    expect(first.$metadata.httpStatusCode).toBe(200);
    await expect(second).rejects.toMatchObject(PRECONDITION_FAILED);
    expect(await textOf(Key)).toBe('first');
  });

  test('of concurrent PutObject with If-None-Match * to one new key, exactly one wins and its body is kept', async () => {
    // Prepare
    const Key = newKey('raced');
    const bodies = Array.from({ length: 10 }, (_, writer) => `written by writer ${writer}`);

    // Act
    const outcomes = await Promise.allSettled(
      bodies.map((Body) => client.send(new PutObjectCommand({ Bucket: Bucket(), Key, Body, IfNoneMatch: '*' }))),
    );

    // Assess
    const winners = bodies.filter((_, writer) => outcomes[writer]!.status === 'fulfilled');
    const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    expect(winners).toHaveLength(1);
    expect(refusals).toEqual(Array(bodies.length - 1).fill(expect.objectContaining(PRECONDITION_FAILED)));
    expect(await textOf(Key)).toBe(winners[0]);
  });

  test('PutObject with If-Match overwrites only the version whose ETag it names', async () => {
    // Prepare
    const Key = newKey('updated');
    const { ETag } = await client.send(new PutObjectCommand({ Bucket: Bucket(), Key, Body: 'version 1' }));

    // Act
    const stale = client.send(
      new PutObjectCommand({ Bucket: Bucket(), Key, Body: 'from a stale read', IfMatch: '"00000000000000000000000000000000"' }),
    );
    await expect(stale).rejects.toMatchObject(PRECONDITION_FAILED);
    const current = await client.send(new PutObjectCommand({ Bucket: Bucket(), Key, Body: 'version 2', IfMatch: ETag }));

    // Assess
    expect(current.$metadata.httpStatusCode).toBe(200);
    expect(await textOf(Key)).toBe('version 2');
  });
});

describe('MailDev', () => {
  test('catches what SmtpMailer sends over SMTP and serves it through its REST API', async () => {
    // Prepare
    const { smtp, mail } = service();
    const messageId = `<local-cloud-${randomUUID()}@calms.test>`;
    const message = {
      to: [mail.aog],
      cc: ['arc.staff@example.org'],
      subject: 'CalMS local cloud: SMTP check',
      text: 'Sent by localCloud.test.ts.',
      messageId,
    };

    // Act
    await new SmtpMailer({ ...smtp, from: mail.from }).send(message);
    const caught = await eventually(
      async () => (await mailbox()).find((found) => found.headers['message-id'] === messageId),
      'MailDev to list the mail',
    );

    // Assess
    expect(caught).toMatchObject({ subject: message.subject, to: [{ address: mail.aog }], cc: [{ address: 'arc.staff@example.org' }] });
    expect(caught.text.trim()).toBe(message.text);
  });
});

/** Ports of the second cloud: none of `npm start`'s defaults, none of the shared test cloud's. */
const SECOND_CLOUD_PORTS = {
  CALMS_API_PORT: 16000,
  CALMS_LAMBDA_PORT: 16002,
  CALMS_EDGE_PORT: 17566,
  CALMS_STEPFUNCTIONS_PORT: 17567,
  CALMS_S3_PORT: 17568,
  CALMS_SMTP_PORT: 16025,
  CALMS_MAIL_WEB_PORT: 16080,
  CALMS_SSH_PORT: 18222,
  CALMS_CONSOLE_PORT: 16081,
};
const SECOND_CLOUD_SSH_NODES = [18222, 18223, 18224];
const SECOND_CLOUD_ALL_PORTS = [...new Set([...Object.values(SECOND_CLOUD_PORTS), ...SECOND_CLOUD_SSH_NODES])];
const SECOND_CLOUD_STATE_DIR = path.join(ROOT, '.calms-test-restart');

/**
 * `npm start`'s environment (this process's, without the shared test cloud's CALMS_* settings and AWS keys) on
 * the second cloud's ports, with someone's real-looking AWS keys exported.
 */
function secondCloudEnvironment(): Record<string, string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CALMS_') && !name.startsWith('AWS_')));
  return localEnvironment({
    ...inherited,
    AWS_ACCESS_KEY_ID: 'AKIAI44QH8DHBEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
    ...Object.fromEntries(Object.entries(SECOND_CLOUD_PORTS).map(([name, port]) => [name, String(port)])),
    CALMS_STATE_DIR: SECOND_CLOUD_STATE_DIR,
    CALMS_ARCHIVE_URL: path.join(SECOND_CLOUD_STATE_DIR, 'archive.sqlite'),
    CALMS_AWS_ENDPOINT: `http://127.0.0.1:${SECOND_CLOUD_PORTS.CALMS_EDGE_PORT}`,
    CALMS_API_URL: `http://127.0.0.1:${SECOND_CLOUD_PORTS.CALMS_API_PORT}/local`,
    CALMS_CLUSTER_NODES: SECOND_CLOUD_SSH_NODES.map((port) => `127.0.0.1:${port}`).join(','),
  });
}

interface CloudProcess {
  /** The node process that runs start.ts (with tsx as its loader, as `npm start` runs it). */
  readonly pid: number;
  /** What it printed so far. */
  stdout(): string;
  stderr(): string;
  hasExited(): boolean;
  /** Resolves with its exit code once it has exited, however it was stopped. */
  exited(): Promise<number | null>;
  /** SIGTERM to its process group; resolves once it exited, telling whether it had to be killed after all. */
  stop(): Promise<{ exitCode: number | null; killed: boolean }>;
}

/**
 * Runs `localstack/start.ts` as `npm start` does, in a process group of its own. (Local to this file for now:
 * localstack/spawnCloud.ts empties the state directory on every start and does not tell how the cloud exited,
 * and both matter here.)
 */
function spawnCloud(env: Record<string, string>): CloudProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'localstack/start.ts'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  let killed = false;
  const stop = async () => {
    if (!hasExited()) {
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => {
        killed = true;
        process.kill(-child.pid!, 'SIGKILL');
      }, 20_000);
      await exited;
      clearTimeout(timer);
    }
    return { exitCode: child.exitCode, killed };
  };
  return { pid: child.pid!, stdout: () => stdout, stderr: () => stderr, hasExited, exited: () => exited.then(() => child.exitCode), stop };
}

async function untilReady(cloud: CloudProcess): Promise<void> {
  await eventually(
    async () => {
      if (cloud.stdout().includes(READY_LINE)) return true;
      if (cloud.hasExited()) throw new Error(`the local cloud exited before it was ready:\n${cloud.stdout()}\n${cloud.stderr()}`);
      return undefined;
    },
    `the local cloud to print "${READY_LINE}"`,
    120_000,
  );
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Those of the second cloud's ports that something still listens on. */
async function busySecondCloudPorts(): Promise<number[]> {
  return (await Promise.all(SECOND_CLOUD_ALL_PORTS.map(async (port) => ((await isPortFree(port)) ? [] : [port])))).flat();
}

/** Processes whose command line or environment mentions `text`, from Linux's /proc; this one excepted. */
function processesMentioning(text: string): string[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .flatMap((pid) => {
      try {
        const commandLine = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const environment = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
        const shown = commandLine.replaceAll('\0', ' ').replace(/--import data:\S+ /, '');
        return commandLine.includes(text) || environment.includes(text) ? [`${pid}: ${shown}`] : [];
      } catch {
        return []; // ended meanwhile, or not ours to read
      }
    });
}

/** What DescribeExecution says about an execution, without the answer's request metadata. */
async function describeExecution(client: SFNClient, executionArn: string): Promise<Omit<DescribeExecutionCommandOutput, '$metadata'>> {
  const { $metadata, ...execution } = await client.send(new DescribeExecutionCommand({ executionArn }));
  return execution;
}

describe('a second local cloud, started as `npm start` on ports and a state directory of its own, with real-looking AWS keys exported', () => {
  // The tests run in order: the execution the second test runs is the one the last test looks for after the restart.
  const env = secondCloudEnvironment();
  const settings = serviceConfig(env);
  const stepFunctions = createSfnClient(settings);
  let running: CloudProcess | undefined;
  let firstStdout = '';
  let earlier: { executionArn: string; execution: Omit<DescribeExecutionCommandOutput, '$metadata'>; history: HistoryEvent[] } | undefined;

  beforeAll(async () => {
    fs.rmSync(SECOND_CLOUD_STATE_DIR, { recursive: true, force: true });
    running = spawnCloud(env);
    await untilReady(running);
    firstStdout = running.stdout();
  }, 150_000);

  afterAll(async () => {
    await running?.stop();
    stepFunctions.destroy();
  });

  test('its banner lists the archive, every endpoint and the API key, and warns where the local cloud differs from AWS', () => {
    // Prepare
    const banner = firstStdout.slice(0, firstStdout.indexOf(READY_LINE));
    const snapshot = JSON.parse(fs.readFileSync(path.join(ROOT, 'localstack/archive/snapshot.json'), 'utf8'));

    // Act
    const endpoints = Object.fromEntries([...banner.matchAll(/^ {2}([^ !].*?) {2,}(\S.*)$/gm)].map(([, name, value]) => [name, value]));
    const warnings = banner.split('\n').filter((line) => line.startsWith('  ! '));
    const printedPorts = [...banner.matchAll(/127\.0\.0\.1:(\d+)/g)].map(([, port]) => Number(port));

    // Assess
    expect(banner).toContain(`archive: ${snapshot.mous.length} MOUS, ${snapshot.users.length} users from localstack/archive/snapshot.json`);
    expect(endpoints).toMatchObject({
      'CalMS API': 'http://127.0.0.1:16000/local',
      'API key (x-api-key)': localCloudConfig(env).apiKey,
      'AWS edge (S3 + Step Functions)': 'http://127.0.0.1:17566',
      'Lambda invoke': 'http://127.0.0.1:16002',
      'MailDev web UI and REST API': 'http://127.0.0.1:16080',
      'Console (executions)': 'http://127.0.0.1:16081',
      SMTP: 'smtp://127.0.0.1:16025',
      'Cluster nodes (SSH)': '127.0.0.1:18222, 127.0.0.1:18223, 127.0.0.1:18224',
      'Data bucket': 's3://calms-data',
      'State machine': 'arn:aws:states:us-east-1:000000000000:stateMachine:calms-local',
      'State and logs': SECOND_CLOUD_STATE_DIR,
    });
    expect(printedPorts.filter((port) => !SECOND_CLOUD_ALL_PORTS.includes(port))).toEqual([]);
    expect(banner).toContain('Where the local cloud differs from AWS:');
    for (const topic of [/If-None-Match/, /lifecycle rules/, /UploadPartCopy/, /CALMS_LOCAL_LIFECYCLE_DAY_SECONDS/, /signatures/, /error names?/]) {
      expect(warnings).toContainEqual(expect.stringMatching(topic));
    }
  });

  test('runs the execution of a request posted to its API to the end', async () => {
    // Act
    const { apiUrl, apiKey } = cliConfig(env);
    const response = await fetch(`${apiUrl}/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify(QUICK_REQUEST),
    });
    expect(response.status).toBe(202);
    const { results } = (await response.json()) as { results: { executionArn: string }[] };
    const { executionArn } = results[0]!;
    const execution = await eventually(
      async () => {
        const described = await describeExecution(stepFunctions, executionArn);
        return described.status === 'RUNNING' ? undefined : described;
      },
      `${executionArn} to end`,
      60_000,
    );

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    earlier = { executionArn, execution, history: await executionHistory(executionArn, stepFunctions) };
  });

  test('SIGTERM stops it and every process it started, and frees its ports', async () => {
    // Act
    const stopped = await running!.stop();

    // Assess
    expect(stopped).toEqual({ exitCode: 0, killed: false });
    expect(await busySecondCloudPorts()).toEqual([]);
    expect(processesMentioning(SECOND_CLOUD_STATE_DIR)).toEqual([]);
  });

  test('started again on the same state directory, it still lists, describes and has the history of the earlier execution', async () => {
    // Prepare
    expect(earlier).toBeDefined();
    const { executionArn, execution, history } = earlier!;

    // Act
    running = spawnCloud(env);
    await untilReady(running);
    const { executions } = await stepFunctions.send(new ListExecutionsCommand({ stateMachineArn: settings.stateMachineArn }));

    // Assess
    expect(executions).toContainEqual(expect.objectContaining({ executionArn, status: execution.status, startDate: execution.startDate }));
    expect(await describeExecution(stepFunctions, executionArn)).toEqual(execution);
    expect(await executionHistory(executionArn, stepFunctions)).toEqual(history);
  }, 150_000);
});

describe('a local cloud ended while it starts', () => {
  let starting: CloudProcess | undefined;

  /** A fresh second cloud, once it has started serverless-offline, the last of its children and seconds from ready. */
  async function startUntilEveryChildRuns(): Promise<CloudProcess> {
    fs.rmSync(SECOND_CLOUD_STATE_DIR, { recursive: true, force: true });
    starting = spawnCloud(secondCloudEnvironment());
    const offlineLog = path.join(SECOND_CLOUD_STATE_DIR, 'logs', 'serverless-offline.log');
    await eventually(async () => fs.existsSync(offlineLog) || undefined, 'serverless-offline to be started', 60_000);
    return starting;
  }

  /**
   * Gives its processes a minute to end: a child notices that the cloud is gone only when its event loop is
   * free, and serverless-offline building the Lambdas keeps its own busy for seconds at a time. The assertions
   * after it tell what is left.
   */
  const untilItsProcessesEnd = () =>
    eventually(
      async () => ((await busySecondCloudPorts()).length === 0 && processesMentioning(SECOND_CLOUD_STATE_DIR).length === 0) || undefined,
      'the processes of the second cloud to end',
      60_000,
    ).catch(() => undefined);

  afterEach(async () => {
    await starting?.stop();
  });

  test('SIGTERM to start.ts before it is ready stops every process it started, and says why it did not start', async () => {
    // Prepare
    const cloud = await startUntilEveryChildRuns();

    // Act
    process.kill(cloud.pid, 'SIGTERM');
    const exitCode = await cloud.exited();

    // Assess
    expect(exitCode).toBe(1);
    expect(cloud.stderr()).toContain('The local cloud could not start: SIGTERM before it was ready');
    expect(await busySecondCloudPorts()).toEqual([]);
    expect(processesMentioning(SECOND_CLOUD_STATE_DIR)).toEqual([]);
  });

  test('killed outright (SIGKILL), it leaves no process behind for long', async () => {
    // Prepare
    const cloud = await startUntilEveryChildRuns();

    // Act
    process.kill(cloud.pid, 'SIGKILL');
    await cloud.exited();
    await untilItsProcessesEnd();

    // Assess
    expect(await busySecondCloudPorts()).toEqual([]);
    expect(processesMentioning(SECOND_CLOUD_STATE_DIR)).toEqual([]);
  }, 180_000);
});
