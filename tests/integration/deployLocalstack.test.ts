/**
 * `npm run deploy:localstack` without Docker. LocalStack is played by a recorder on 127.0.0.1 that answers the
 * deploy's STS, CloudFormation and S3 calls as LocalStack would, up to the upload of the package to the
 * deployment bucket, which it refuses. Every TCP connection the deploy opens is logged, so the test sees that
 * each AWS call of the deploy went to CALMS_AWS_ENDPOINT and none anywhere else (to AWS, say).
 *
 * The deploy runs on a copy of the service: packaging deletes .esbuild/, from which the integration tests'
 * serverless-offline serves the Lambdas.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import yaml from 'js-yaml';
import { copyOfService, type ServiceCopy } from './support/serviceCopy';

const ROOT = path.resolve(__dirname, '../..');
/** What `serverless deploy` and deploy.ts read. */
const REFUSAL = 'refused by the test recorder';
const DEPLOYMENT_BUCKET = 'calms-localstack-deployment-bucket';
const STACK_ID = 'arn:aws:cloudformation:us-east-1:000000000000:stack/calms-localstack/1';

/** Appends where each TCP connection of a process goes to $CALMS_TEST_CONNECTION_LOG; loaded through NODE_OPTIONS. */
const CONNECTION_LOGGER = `
const fs = require('node:fs');
const net = require('node:net');
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // net.connect() hands over its normalised [options, callback]; a direct call passes options or (port, host).
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const target = typeof first === 'object' ? first : { port: first, host: args[1] };
  // As in net itself, a path means a local pipe (tsx talks to its child through one); https leaves it null.
  if (!target.path) fs.appendFileSync(process.env.CALMS_TEST_CONNECTION_LOG, (target.host ?? 'localhost') + ':' + target.port + '\\n');
  return connect.apply(this, args);
};
`;

interface RecordedCall {
  readonly method: string;
  readonly path: string;
  /** From the SigV4 credential scope: `<access key>/<date>/<region>/<service>/aws4_request`. */
  readonly accessKey?: string;
  readonly region?: string;
  readonly service?: string;
  readonly action?: string | null;
  readonly params: URLSearchParams;
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

type Answerer = (call: RecordedCall) => Answer;

const queryResponse = (action: string, result: string): Answer => ({
  status: 200,
  body: `<${action}Response><${action}Result>${result}</${action}Result></${action}Response>`,
});
const queryError = (code: string, message: string): Answer => ({
  status: 400,
  body: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error></ErrorResponse>`,
});
const refusal = (call: RecordedCall): Answer =>
  call.service === 's3'
    ? { status: 403, body: `<Error><Code>RecorderRefused</Code><Message>${REFUSAL}: ${call.method} ${call.path}</Message></Error>` }
    : queryError('RecorderRefused', `${REFUSAL}: ${call.service} ${call.action ?? call.path}`);

/** LocalStack as far as the deploy needs it to reach the upload: the account, a new stack created by change set, its bucket. */
function localStackUpToTheUpload(): Answerer {
  let stackExists = false;
  return (call) => {
    if (call.path === '/_localstack/health') {
      return { status: 200, contentType: 'application/json', body: JSON.stringify({ services: { cloudformation: 'available' }, version: '4.14.0' }) };
    }
    if (call.service === 'sts' && call.action === 'GetCallerIdentity') {
      return queryResponse(
        'GetCallerIdentity',
        '<Account>000000000000</Account><Arn>arn:aws:iam::000000000000:root</Arn><UserId>000000000000</UserId>',
      );
    }
    if (call.service === 'cloudformation') {
      switch (call.action) {
        case 'DescribeStacks':
          if (!stackExists) return queryError('ValidationError', `Stack with id ${call.params.get('StackName')} does not exist`);
          break;
        case 'CreateChangeSet':
          stackExists = true;
          return queryResponse('CreateChangeSet', `<Id>${STACK_ID}-change-set</Id><StackId>${STACK_ID}</StackId>`);
        case 'DescribeChangeSet':
          return queryResponse(
            'DescribeChangeSet',
            `<StackName>calms-localstack</StackName><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes/>`,
          );
        case 'ExecuteChangeSet':
          return queryResponse('ExecuteChangeSet', '');
        case 'DescribeStackEvents':
          return queryResponse(
            'DescribeStackEvents',
            `<StackEvents><member><EventId>1</EventId><StackId>${STACK_ID}</StackId><StackName>calms-localstack</StackName><LogicalResourceId>calms-localstack</LogicalResourceId><ResourceType>AWS::CloudFormation::Stack</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus><Timestamp>${new Date().toISOString()}</Timestamp></member></StackEvents>`,
          );
        case 'DescribeStackResource':
          return queryResponse(
            'DescribeStackResource',
            `<StackResourceDetail><LogicalResourceId>ServerlessDeploymentBucket</LogicalResourceId><PhysicalResourceId>${DEPLOYMENT_BUCKET}</PhysicalResourceId><ResourceType>AWS::S3::Bucket</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus><LastUpdatedTimestamp>${new Date().toISOString()}</LastUpdatedTimestamp></StackResourceDetail>`,
          );
      }
    }
    if (call.service === 's3' && call.method === 'HEAD') return { status: 200, body: '' };
    if (call.service === 's3' && call.params.get('list-type') === '2') {
      return {
        status: 200,
        body: `<ListBucketResult><Name>${DEPLOYMENT_BUCKET}</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`,
      };
    }
    return refusal(call);
  };
}

interface Recorder {
  readonly url: string;
  readonly calls: RecordedCall[];
  close(): Promise<void>;
}

async function startRecorder(answer: Answerer): Promise<Recorder> {
  const calls: RecordedCall[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url!, 'http://recorder');
      const scope = /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\//.exec(request.headers.authorization ?? '');
      // Query-protocol calls (STS, CloudFormation) carry their parameters in a form body; S3 (and a too-large form) in the URL.
      const body = Buffer.concat(chunks);
      const params = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
        ? new URLSearchParams(body.toString())
        : url.searchParams;
      const call: RecordedCall = {
        method: request.method!,
        path: url.pathname,
        accessKey: scope?.[1],
        region: scope?.[2],
        service: scope?.[3],
        action: params.get('Action'),
        params,
      };
      calls.push(call);
      const { status, body: answerBody, contentType } = answer(call);
      response.writeHead(status, { 'content-type': contentType ?? 'text/xml' }).end(answerBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface DeployRun {
  readonly code: number | null;
  readonly output: string;
  /** host:port of every TCP connection the deploy's processes opened. */
  readonly connections: string[];
}

let copy: ServiceCopy;
let serviceCopy: string;

/** `npm run deploy:localstack` in the copy, with CALMS_AWS_ENDPOINT at the recorder and nothing else configured. */
async function deployTo(endpoint: string, timeoutMs: number): Promise<DeployRun> {
  const connectionLog = path.join(serviceCopy, `connections-${Date.now()}.log`);
  fs.writeFileSync(connectionLog, '');
  const env: NodeJS.ProcessEnv = {};
  // The integration setup exported the embedded cloud's CALMS_* and AWS_* settings; a user running the deploy has none.
  for (const [name, value] of Object.entries(process.env)) if (!/^(CALMS|AWS)_/.test(name)) env[name] = value;
  Object.assign(env, {
    CALMS_AWS_ENDPOINT: endpoint,
    SLS_AWS_REQUEST_MAX_RETRIES: '0',
    NODE_OPTIONS: `--require ${path.join(serviceCopy, 'connectionLogger.cjs')}`,
    CALMS_TEST_CONNECTION_LOG: connectionLog,
  });
  const child = spawn(process.execPath, [path.join(serviceCopy, 'node_modules/tsx/dist/cli.mjs'), 'localstack/deploy.ts'], {
    cwd: serviceCopy,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  const connections = fs.readFileSync(connectionLog, 'utf8').split('\n').filter(Boolean);
  return { code, output, connections };
}

beforeAll(() => {
  copy = copyOfService('calms-deploy-localstack-');
  serviceCopy = copy.dir;
  fs.writeFileSync(path.join(serviceCopy, 'connectionLogger.cjs'), CONNECTION_LOGGER);
});

afterAll(() => copy.remove());

describe('a deploy against a recorder playing LocalStack', () => {
  let recorder: Recorder;
  let deploy: DeployRun;

  beforeAll(async () => {
    recorder = await startRecorder(localStackUpToTheUpload());
    // Packaging bundles every function (two dozen) before the first upload: minutes on a loaded machine.
    deploy = await deployTo(recorder.url, 170_000);
  }, 180_000);

  afterAll(() => recorder?.close());

  test('fails on the upload the recorder refuses', () => {
    expect(deploy.code).not.toBe(0);
    expect(deploy.output).toContain(REFUSAL);
  });

  test('sends its STS, CloudFormation, Lambda and S3 calls to CALMS_AWS_ENDPOINT, with test credentials for us-east-1', () => {
    const awsCalls = recorder.calls.filter((call) => call.service);
    const seen = awsCalls.map((call) => `${call.service} ${call.action ?? call.method}`);
    expect(seen).toEqual(
      expect.arrayContaining(['sts GetCallerIdentity', 'cloudformation DescribeStacks', 'cloudformation CreateChangeSet', 'lambda GET', 's3 PUT']),
    );
    expect(awsCalls.find((call) => call.action === 'CreateChangeSet')!.params.get('StackName')).toBe('calms-localstack');
    // Path style, because the endpoint is an IP address: a bucket host name under 127.0.0.1 would not resolve.
    expect(
      awsCalls.some(
        (call) => call.service === 's3' && call.method === 'PUT' && call.path.startsWith(`/${DEPLOYMENT_BUCKET}/serverless/calms/localstack/`),
      ),
    ).toBe(true);
    for (const call of awsCalls) expect([call.accessKey, call.region]).toEqual(['test', 'us-east-1']);
  });

  test('opens no connection to anywhere but CALMS_AWS_ENDPOINT', () => {
    const recorderAddress = new URL(recorder.url).host;
    expect(deploy.connections).toContain(recorderAddress);
    expect(deploy.connections.filter((target) => target !== recorderAddress)).toEqual([]);
  });

  test('deploys Lambdas that reach LocalStack, MailDev and the archive as docker-compose.yml provides them', () => {
    const template = JSON.parse(fs.readFileSync(path.join(serviceCopy, '.serverless/cloudformation-template-update-stack.json'), 'utf8'));
    const compose = yaml.load(fs.readFileSync(path.join(ROOT, 'localstack/docker-compose.yml'), 'utf8')) as {
      services: Record<string, { environment?: Record<string, string>; ports?: string[] }>;
      networks: { default: { name: string } };
    };
    const localstack = compose.services.localstack!.environment!;
    expect(localstack.LAMBDA_DOCKER_NETWORK).toBe(compose.networks.default.name);
    const archiveMount = /-v \$\{PWD\}\/(\S+):(\S+):ro/.exec(localstack.LAMBDA_DOCKER_FLAGS!);
    expect(archiveMount).not.toBeNull();
    const [, archiveHostDir, archiveMountPoint] = archiveMount!;

    const functions = Object.values(template.Resources as Record<string, { Type: string; Properties: any }>).filter(
      (resource) => resource.Type === 'AWS::Lambda::Function',
    );
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      const variables = fn.Properties.Environment.Variables as Record<string, string>;
      const awsEndpoint = new URL(variables.CALMS_AWS_ENDPOINT!);
      expect(compose.services[awsEndpoint.hostname]?.environment?.SERVICES).toContain('stepfunctions');
      expect(awsEndpoint.port).toBe('4566');
      expect(compose.services[variables.CALMS_SMTP_HOST!]?.ports).toContainEqual(expect.stringMatching(new RegExp(`:${variables.CALMS_SMTP_PORT}$`)));
      // MailDev has no STARTTLS a Lambda would trust: without this every email would be refused.
      expect(variables.CALMS_SMTP_REQUIRE_TLS).toBe('false');
      expect(path.posix.dirname(variables.CALMS_ARCHIVE_URL!)).toBe(archiveMountPoint);
      expect(fs.existsSync(path.join(serviceCopy, archiveHostDir!, path.posix.basename(variables.CALMS_ARCHIVE_URL!)))).toBe(true);
    }
  });
});

test('the deploy refuses an endpoint that is not LocalStack, before packaging or any AWS call', async () => {
  const recorder = await startRecorder(() => ({ status: 404, body: 'Not Found', contentType: 'text/plain' }));
  try {
    const deploy = await deployTo(recorder.url, 30_000);

    expect(deploy.code).toBe(1);
    expect(deploy.output).toContain(`${recorder.url} answers, but not as LocalStack`);
    expect(recorder.calls.map((call) => `${call.method} ${call.path}`)).toEqual(['GET /_localstack/health']);
  } finally {
    await recorder.close();
  }
});

test('docker-compose.yml pins LocalStack 4.14.0, passes LOCALSTACK_AUTH_TOKEN through, and every init hook is executable', () => {
  const compose = yaml.load(fs.readFileSync(path.join(ROOT, 'localstack/docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image: string; environment?: Record<string, string> }>;
  };
  expect(compose.services.localstack!.image).toBe('localstack/localstack:4.14.0');
  expect(compose.services.localstack!.environment!.LOCALSTACK_AUTH_TOKEN).toBe('${LOCALSTACK_AUTH_TOKEN:-}');

  const initDir = path.join(ROOT, 'localstack/init');
  const hooks = (fs.readdirSync(initDir, { recursive: true }) as string[])
    .map((name) => path.join(initDir, name))
    .filter((file) => fs.statSync(file).isFile());
  expect(hooks.length).toBeGreaterThan(0);
  for (const hook of hooks) {
    // Git keeps only the owner's execute bit, and LocalStack runs only executable shell scripts.
    expect({ hook, executable: (fs.statSync(hook).mode & 0o100) !== 0 }).toEqual({ hook, executable: true });
    expect(fs.readFileSync(hook, 'utf8')).toMatch(/^#!/);
  }
});
