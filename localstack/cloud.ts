/**
 * The embedded local cloud: everything CalMS talks to, on this machine, without Docker.
 * `npm start` runs it in the foreground; the integration tests start it through the same entry point.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  CreateBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient, UpdateStateMachineCommand } from '@aws-sdk/client-sfn';
import yaml from 'js-yaml';
import { loadSnapshotFile } from '../lib/archive';
import { createS3Client } from '../lib/aws/clients';
import { localEnvironment, serviceConfig } from '../lib/config';
import { type LocalCloudConfig, localCloudConfig } from './config';
import { createLogger } from '../lib/log';
import { startEmulatedCluster } from './cluster/emulatedCluster';
import { emulatedClusterOptions } from './cluster/options';
import { dataBucketLifecycleRules } from '../lib/storage/lifecycle';
import { startConsole } from './console/server';
import { startEdge } from './edge';
import { eventRulesFromServerless, localEventBus } from './eventBridge';
import { serverlessOfflineInvoker } from './stepfunctions/lambdaInvoker';
import { startStepFunctionsServer, type StepFunctionsServer } from './stepfunctions/server';

const ROOT = path.resolve(__dirname, '..');
const HOST = '127.0.0.1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
/** How long Step Functions waits for a crashed serverless-offline to answer again (it starts in 10 s, more under load). */
const OFFLINE_RESTART_GRACE_MS = 180_000;
/** Printed once everything answers; the test setup waits for it. */
export const READY_LINE = 'CalMS local cloud is ready.';
const STATE_MACHINE_FILE = path.join(ROOT, 'statemachines', 'calms.asl.yml');
const SERVERLESS_FILE = path.join(ROOT, 'serverless.yml');

export interface LocalCloud {
  readonly endpoints: Record<string, string>;
  readonly warnings: readonly string[];
  stop(): Promise<void>;
}

type Say = (line: string) => void;

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function answersOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Node's arguments that run s3rver behind the edge, on `directory`. */
export function s3rverArguments(directory: string, host: string, port: number): string[] {
  return [
    // s3rver's ListObjectsV2 pagination token code uses a cipher that OpenSSL 3 keeps in its legacy provider.
    '--openssl-legacy-provider',
    path.join(ROOT, 'node_modules/s3rver/bin/s3rver.js'),
    ...['-d', directory, '-a', host, '-p', String(port), '--silent'],
    // The edge accepts any access key (s3/credentials.ts); a SigV2 signature made with another secret must pass too.
    '--allow-mismatched-signatures',
  ];
}

/** Waits until something accepts TCP connections on the port, or the child that should open it dies, or `signal` aborts. */
async function waitForPort(port: number, what: string, child?: ChildProcess, signal?: AbortSignal, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    if (await answersOn(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${what} did not open port ${port} within ${timeoutMs / 1000} s`);
}

async function assertPortFree(port: number, what: string): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
  if (!free) throw new Error(`port ${port} for ${what} is in use: is another CalMS local cloud running? (set the CALMS_*_PORT variables to move it)`);
}

/**
 * Preloaded into every child: once the cloud that started it is gone without stopping it (killed, crashed, or
 * SIGKILLed by tsx's CLI, which does that to a child that is busy when Ctrl-C comes), the child ends itself and
 * its process group, so that no server is left holding the ports of the next `npm start`.
 */
const EXIT_WITH_CLOUD = `data:text/javascript,${encodeURIComponent(
  // This process's pid, not the child's process.ppid at start: the cloud may already be gone by then.
  `setInterval(() => { if (process.ppid === ${process.pid}) return; try { process.kill(-process.pid, "SIGTERM"); } catch {} process.exit(1); }, 500).unref();`,
)}`;

/** A child in its own process group, so that stopping it also stops whatever it started. */
function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', EXIT_WITH_CLOUD, ...args], { cwd: ROOT, env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.on('error', (error) => process.stderr.write(`${name}: ${error.message}\n`));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}

/** The state machine file with each `Fn::GetAtt: [fn, Arn]` replaced by the local function's ARN. */
export function localDefinition(stage: string): string {
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (node && typeof node === 'object') {
      const getAtt = (node as Record<string, unknown>)['Fn::GetAtt'];
      if (Array.isArray(getAtt) && getAtt[1] === 'Arn') {
        return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:calms-${stage}-${String(getAtt[0])}`;
      }
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolve(value)]));
    }
    return node;
  };
  return JSON.stringify(resolve(yaml.load(fs.readFileSync(STATE_MACHINE_FILE, 'utf8'))));
}

async function deployStateMachine(sfn: SFNClient, arn: string, stage: string): Promise<void> {
  const definition = localDefinition(stage);
  const name = arn.split(':').pop()!;
  const roleArn = `arn:aws:iam::${LOCAL_ACCOUNT}:role/calms-${stage}-statemachine`;
  try {
    await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn }));
  } catch (error) {
    if ((error as Error).name !== 'StateMachineAlreadyExists') throw error;
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition }));
  }
}

/** Does the S3 endpoint refuse a second `If-None-Match: *` write? */
async function honoursConditionalWrites(s3: S3Client, bucket: string): Promise<boolean> {
  const Key = `.calms-conditional-write-probe-${process.pid}`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'probe', IfNoneMatch: '*' }));
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'probe', IfNoneMatch: '*' }));
    return false;
  } catch {
    return true;
  } finally {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  }
}

/**
 * Starts every server and child, and stops them all again if one fails to start or `signal` aborts before
 * the cloud is up (a Ctrl-C during start-up must not leave children behind in their own process groups).
 */
export async function startLocalCloud(say: Say = (line) => process.stdout.write(`${line}\n`), signal?: AbortSignal): Promise<LocalCloud> {
  const env = localEnvironment();
  const settings: LocalCloudConfig = localCloudConfig(env);
  const service = serviceConfig(env);
  const stateDir = path.resolve(ROOT, settings.stateDir);
  const logDir = path.join(stateDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const { ports } = settings;
  for (const [what, port] of Object.entries(ports)) await assertPortFree(port, what);

  const children: ChildProcess[] = [];
  const closers: (() => Promise<void>)[] = [];
  const warnings: string[] = [];
  let stepFunctions: StepFunctionsServer | undefined;
  let up = false;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    // Executions first: stopped under them, a Lambda would fail and send its request down a failure path.
    // They are left as they are on disk and resume at the next start.
    await stepFunctions?.close().catch(() => undefined);
    await Promise.all(children.map(stopChild));
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };

  try {
    const archive = service.archive.location;
    if (archive.dialect === 'sqlite') {
      const loaded = loadSnapshotFile(path.resolve(ROOT, settings.archiveSnapshot), path.resolve(ROOT, archive.path));
      say(`archive: ${loaded.mous} MOUS, ${loaded.users} users from ${settings.archiveSnapshot}`);
    } else {
      // A database is somebody's: the cloud reads it as it is and never loads into it (npm run archive:load does).
      say(`archive: PostgreSQL ${archive.display}, as it is`);
    }

    const clusterOptions = emulatedClusterOptions({ stateDir, archiveSnapshot: path.resolve(ROOT, settings.archiveSnapshot) }, env);
    const cluster = await startEmulatedCluster({ ...clusterOptions, log: createLogger({ component: 'emulated-cluster' }, undefined, 'warn') });
    // Its calibration jobs outlive the cloud, as on a real cluster: the executions that resume find them.
    closers.push(() => cluster.close({ keepJobs: true }));

    const s3Dir = path.join(stateDir, 's3');
    fs.mkdirSync(s3Dir, { recursive: true });
    const s3rver = startChild('s3rver', s3rverArguments(s3Dir, HOST, ports.s3), env, path.join(logDir, 's3rver.log'));
    children.push(s3rver);

    const mailDir = path.join(stateDir, 'mail');
    fs.mkdirSync(mailDir, { recursive: true });
    const maildev = startChild(
      'maildev',
      [
        path.join(ROOT, 'node_modules/maildev/dist/bin/maildev.js'),
        '--smtp',
        String(ports.smtp),
        '--ip',
        HOST,
        '--web',
        String(ports.mailWeb),
        '--web-ip',
        HOST,
        '--mail-directory',
        mailDir,
      ],
      env,
      path.join(logDir, 'maildev.log'),
    );
    children.push(maildev);

    const lambdaEndpoint = `http://${HOST}:${ports.lambda}`;
    const invokeLambda = serverlessOfflineInvoker(lambdaEndpoint, { connectGraceMs: OFFLINE_RESTART_GRACE_MS });
    // serverless.yml's EventBridge rules (the execution-end watcher's) get the status changes, as on AWS.
    const eventRules = eventRulesFromServerless(fs.readFileSync(SERVERLESS_FILE, 'utf8'), {
      service: 'calms',
      stage: service.stage,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
    });
    stepFunctions = await startStepFunctionsServer({
      port: ports.stepFunctions,
      host: HOST,
      stateDir,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      invokeLambda,
      retryIntervalMs: settings.retryIntervalMs,
      onStatusChange: localEventBus(eventRules, invokeLambda, createLogger({ component: 'eventbridge' })),
    });

    const edge = await startEdge({
      port: ports.edge,
      host: HOST,
      s3: { host: HOST, port: ports.s3, directory: s3Dir },
      stepFunctions: { host: HOST, port: ports.stepFunctions },
      stateDir,
      lifecycleDaySeconds: settings.lifecycleDaySeconds,
    });
    closers.push(() => edge.close());

    // Reads the executions through the edge, with the AWS SDK, as it would read them from AWS; acts through the API.
    const apiUrl = `http://${HOST}:${ports.api}/${service.stage}`;
    const executionConsole = await startConsole({
      port: ports.console,
      host: HOST,
      stateMachineArn: service.stateMachineArn,
      endpoint: edge.url,
      region: LOCAL_REGION,
      apiUrl,
    });
    closers.push(() => executionConsole.close());

    const startOffline = (): ChildProcess =>
      startChild(
        'serverless-offline',
        [
          // Malformed percent-escapes under /downloads reach the route, as on API Gateway (see the file).
          '--require',
          path.join(ROOT, 'localstack/downloadPaths.cjs'),
          path.join(ROOT, 'node_modules/serverless/bin/serverless.js'),
          'offline',
          'start',
          '--stage',
          service.stage,
          '--host',
          HOST,
          '--httpPort',
          String(ports.api),
          '--lambdaPort',
          String(ports.lambda),
          '--noTimeout',
          // Handlers share this process, as warm Lambdas share a container: a worker thread per concurrent
          // invocation re-loads the whole bundle, which under ten concurrent requests cost seconds per request.
          '--useInProcess',
        ],
        // The Lambdas reach the emulated cluster with the key and host keys it generated.
        { ...env, ...cluster.environment, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
        path.join(logDir, 'serverless-offline.log'),
      );
    // The Lambda runtime crashing (its process killed) is a fault the service must ride out, as a Lambda
    // container dying on AWS: once the cloud is up, a new one takes over, and Step Functions' invocations wait
    // for it (connectGraceMs) or fail as Lambda.ServiceException, which the Tasks retry.
    const superviseOffline = (child: ChildProcess): void => {
      children.push(child);
      child.once('exit', (code, signalName) => {
        children.splice(children.indexOf(child), 1);
        if (!up || stopping) return;
        say(`serverless-offline ended (${signalName ?? `exit code ${code}`}): starting it again`);
        superviseOffline(startOffline());
      });
    };
    const offline = startOffline();
    superviseOffline(offline);

    await waitForPort(ports.s3, 's3rver', s3rver, signal);
    await waitForPort(ports.smtp, 'MailDev SMTP', maildev, signal);
    await waitForPort(ports.mailWeb, 'MailDev web', maildev, signal);

    const s3 = createS3Client(service);
    await s3.send(new CreateBucketCommand({ Bucket: service.dataBucket })).catch((error: Error) => {
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(error.name)) throw error;
    });
    if (await honoursConditionalWrites(s3, service.dataBucket)) {
      warnings.push(
        's3rver ignores conditional writes: the edge on port ' +
          ports.edge +
          ' enforces If-None-Match/If-Match for it (talk to S3 through the edge).',
      );
    } else {
      throw new Error('the edge did not enforce a conditional write: duplicate requests would not be detected');
    }
    // The same rules serverless.yml gives the bucket on AWS; the edge stores and enforces them for s3rver.
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: service.dataBucket,
        LifecycleConfiguration: { Rules: dataBucketLifecycleRules(service.retentionDays) },
      }),
    );
    warnings.push(
      `s3rver has no lifecycle rules, tags that keep their text, ListParts, AbortMultipartUpload or UploadPartCopy: the edge adds them, and expires deliveries after ${service.retentionDays} "days" of ${settings.lifecycleDaySeconds} s (CALMS_LOCAL_LIFECYCLE_DAY_SECONDS), counted from upload rather than from midnight.`,
    );
    warnings.push(
      'Request signatures are not checked: the edge accepts any access key (test/test as on LocalStack, your own, or none), and passes S3 requests on to s3rver as its one account.',
    );
    warnings.push(
      'serverless-offline reports every error a Lambda throws as "Error": the local Step Functions server recovers the real error names from the stack trace, so Retry and Catch match as on AWS.',
    );
    s3.destroy();

    const sfn = new SFNClient({ endpoint: edge.url });
    await deployStateMachine(sfn, service.stateMachineArn, service.stage);
    sfn.destroy();

    await waitForPort(ports.api, 'serverless-offline', offline, signal, 120_000);
    await waitForPort(ports.lambda, 'serverless-offline Lambda', offline, signal, 120_000);
    signal?.throwIfAborted();
    up = true;
    const resumed = stepFunctions.resumeInterrupted();
    if (resumed > 0) say(`step functions: ${resumed} execution(s) running when the local cloud stopped go on where they were`);

    const endpoints = {
      'CalMS API': apiUrl,
      'API key (x-api-key)': settings.apiKey,
      'AWS edge (S3 + Step Functions)': edge.url,
      'Console (executions)': executionConsole.url,
      'Lambda invoke': lambdaEndpoint,
      'MailDev web UI and REST API': `http://${HOST}:${ports.mailWeb}`,
      SMTP: `smtp://${HOST}:${ports.smtp}`,
      'Cluster nodes (SSH)': cluster.nodes.join(', '),
      'Cluster login': cluster.loginCommand,
      'Cluster work directories': cluster.workRoot,
      'Data bucket': `s3://${service.dataBucket}`,
      'State machine': service.stateMachineArn,
      'State and logs': stateDir,
    };
    signal?.throwIfAborted();
    return { endpoints, warnings, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
