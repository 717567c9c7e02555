/**
 * `npm run deploy:localstack`: deploys CalMS to a real LocalStack (`localstack/docker-compose.yml`) with the
 * same `serverless deploy` that deploys it to AWS.
 *
 * osls 4 builds its AWS SDK v3 clients without an endpoint (`lib/aws/config.js`), so the SDK's own
 * `AWS_ENDPOINT_URL` sends every call of the deploy to LocalStack. That replaces the serverless-localstack
 * plugin, which fails on osls 4 (`provider.getCredentials() is no longer available`).
 * tests/integration/deployLocalstack.test.ts checks that no call goes anywhere else.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadSnapshotFile } from '../lib/archive';
import { localEnvironment, serviceConfig, type VariableName } from '../lib/config';
import { localCloudConfig } from './config';

const ROOT = path.resolve(__dirname, '..');
const REGION = 'us-east-1';
const DEFAULT_STAGE = 'localstack';
const COMPOSE_FILE = 'localstack/docker-compose.yml';

/**
 * How the Lambdas reach LocalStack, MailDev and the archive from inside their containers, which LocalStack
 * starts on the compose network: the service names and the mount that docker-compose.yml sets up, not the
 * host's view of them.
 */
const INSIDE_COMPOSE_NETWORK = {
  CALMS_AWS_ENDPOINT: 'http://localstack:4566',
  CALMS_SMTP_HOST: 'maildev',
  CALMS_SMTP_PORT: '1025',
  // MailDev offers no STARTTLS that a Lambda could trust.
  CALMS_SMTP_REQUIRE_TLS: 'false',
  CALMS_ARCHIVE_URL: '/mnt/calms-archive/archive.sqlite',
} as const satisfies Partial<Record<VariableName, string>>;

/** Mounted into every Lambda container as /mnt/calms-archive (LAMBDA_DOCKER_FLAGS in docker-compose.yml). */
const ARCHIVE_HOST_DIR = '.calms/localstack-archive';

/** Service variables the caller may set; unset, they take the embedded cloud's value. */
const CALLER_OR_LOCAL: readonly VariableName[] = [
  'CALMS_MAIL_FROM',
  'CALMS_AOG_EMAIL',
  'CALMS_MAINTAINER_EMAIL',
  'CALMS_NOREPLY_EMAIL',
  'CALMS_API_KEY',
];

const LOCALSTACK_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

const hasOwnCredentials = (env: NodeJS.ProcessEnv): boolean => Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);

/** A reason not to deploy that the user can act on; printed without a stack trace. */
class DeployError extends Error {
  override readonly name = 'DeployError';
}

/** Fails unless LocalStack itself answers at the endpoint; `npm start`'s embedded cloud also listens on 4566. */
async function localStackVersion(endpoint: string): Promise<string> {
  const healthUrl = new URL('/_localstack/health', endpoint);
  let response: Response;
  try {
    response = await fetch(healthUrl, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new DeployError(
      `nothing answers at ${endpoint} (${cause}). Start LocalStack with \`docker compose -f ${COMPOSE_FILE} up -d\`, or set CALMS_AWS_ENDPOINT.`,
    );
  }
  const health = (await response.json().catch(() => undefined)) as { services?: object; version?: string } | undefined;
  if (!response.ok || !health?.services) {
    throw new DeployError(
      `${endpoint} answers, but not as LocalStack (GET ${healthUrl.pathname}: ${response.status}). Is \`npm start\`'s embedded cloud on that port?`,
    );
  }
  return health.version ?? 'unknown version';
}

/** The environment of `serverless deploy`: every AWS call to the endpoint, the Lambdas set up for the compose network. */
function deployEnvironment(caller: NodeJS.ProcessEnv, endpoint: string): NodeJS.ProcessEnv {
  const local = localEnvironment(caller);
  const env: NodeJS.ProcessEnv = { ...caller };
  // osls prefers a profile to the credentials below, and the SDK prefers a per-service endpoint to AWS_ENDPOINT_URL.
  for (const name of Object.keys(env)) {
    if (/^AWS_(\w+_)?PROFILE$/.test(name) || name.startsWith('AWS_ENDPOINT_URL_')) delete env[name];
  }
  if (!hasOwnCredentials(env)) {
    delete env.AWS_SESSION_TOKEN;
    Object.assign(env, LOCALSTACK_CREDENTIALS);
  }
  for (const name of CALLER_OR_LOCAL) env[name] = local[name];
  return {
    ...env,
    ...INSIDE_COMPOSE_NETWORK,
    AWS_ENDPOINT_URL: endpoint,
    // An `ignore_configured_endpoint_urls` in ~/.aws/config would send the deploy to AWS; the environment wins.
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false',
    AWS_REGION: REGION,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
}

/** Runs the command with its output shown as it comes; resolves with its exit code and everything it printed. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['inherit', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
      process.stderr.write(chunk);
    });
    child.once('error', reject);
    // No exit code means a signal ended it.
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

async function main(): Promise<number> {
  const local = localEnvironment(process.env);
  const endpoint = serviceConfig(local).awsEndpoint!.replace(/\/+$/, '');
  const { archiveSnapshot } = localCloudConfig(local);
  const stage = process.env.CALMS_STAGE?.trim() || DEFAULT_STAGE;
  const env = deployEnvironment(process.env, endpoint);

  const version = await localStackVersion(endpoint);
  const archiveDb = path.join(ROOT, ARCHIVE_HOST_DIR, path.basename(INSIDE_COMPOSE_NETWORK.CALMS_ARCHIVE_URL));
  fs.mkdirSync(path.dirname(archiveDb), { recursive: true });
  const archive = loadSnapshotFile(path.resolve(ROOT, archiveSnapshot), archiveDb);

  process.stdout.write(
    [
      `Deploying CalMS stage "${stage}" to LocalStack ${version}`,
      `  AWS endpoint of the deploy  ${endpoint} (CALMS_AWS_ENDPOINT), region ${REGION}, credentials ${hasOwnCredentials(process.env) ? 'yours (AWS_ACCESS_KEY_ID)' : 'test/test'}`,
      `  Lambdas call AWS at         ${INSIDE_COMPOSE_NETWORK.CALMS_AWS_ENDPOINT} (inside the compose network)`,
      `  Lambdas send mail through   ${INSIDE_COMPOSE_NETWORK.CALMS_SMTP_HOST}:${INSIDE_COMPOSE_NETWORK.CALMS_SMTP_PORT}`,
      `  Archive                     ${archive.mous} MOUS from ${archiveSnapshot}, mounted as ${INSIDE_COMPOSE_NETWORK.CALMS_ARCHIVE_URL}`,
      '',
    ].join('\n'),
  );

  const serverless = path.join(ROOT, 'node_modules/serverless/bin/serverless.js');
  const { code, output } = await run(process.execPath, [serverless, 'deploy', '--stage', stage, '--region', REGION], env);
  if (code !== 0) return code;

  // osls prints the API as AWS would serve it (https://<id>.execute-api...); LocalStack serves it under /restapis.
  const restApiId = /https:\/\/([a-z0-9]+)\.execute-api\./.exec(output)?.[1];
  process.stdout.write(
    [
      '',
      restApiId
        ? `  CalMS API      ${endpoint}/restapis/${restApiId}/${stage}/_user_request_/requests`
        : `  CalMS API      not in the deploy's output; list it with: aws --endpoint-url ${endpoint} apigateway get-rest-apis`,
      `  API key        ${env.CALMS_API_KEY} (x-api-key)`,
      '  MailDev        http://127.0.0.1:1080',
      '',
    ].join('\n'),
  );
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    process.stderr.write(`deploy:localstack: ${error instanceof DeployError ? error.message : error.stack}\n`);
    process.exitCode = 1;
  },
);
