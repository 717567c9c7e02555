/**
 * `serverless package` produces the CloudFormation template CalMS deploys: Lambdas on nodejs22.x, the state
 * machine from statemachines/, an API whose routes need an API key, and the data bucket's lifecycle rule.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { clusterConfig, logLevel, serviceConfig, VARIABLES, type Variable } from '../../lib/config';
import { dataBucketLifecycleRules } from '../../lib/storage/lifecycle';
import { copyOfService } from './support/serviceCopy';

const ROOT = path.resolve(__dirname, '../..');
type Resource = { Type: string; Properties: Record<string, any> };

/** What a site sets before deploying: the variables "Deploy to AWS" in the README names as required. */
const SITE = {
  CALMS_SMTP_HOST: 'email-smtp.eu-west-1.amazonaws.com',
  CALMS_MAIL_FROM: 'calms@alma.example.org',
  CALMS_AOG_EMAIL: 'aog@alma.example.org',
  CALMS_MAINTAINER_EMAIL: 'calms-maintainer@alma.example.org',
  CALMS_NOREPLY_EMAIL: 'no_reply_eu_data_delivery@alma.example.org',
  CALMS_ARCHIVE_URL: 'postgres://calms@archive.arc.example.org:5432/archive?sslmode=verify-full&sslrootcert=/var/runtime/ca-cert.pem',
  CALMS_ARCHIVE_PASSWORD_SECRET: 'calms/ci/archive-password',
  CALMS_CLUSTER_NODES: 'node1.arc.example.org:22,node2.arc.example.org:22',
  CALMS_CLUSTER_USER: 'arcproc',
  CALMS_CLUSTER_KNOWN_HOSTS: [1, 2]
    .map((node) => `node${node}.arc.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDRPVUCoXvzf9x8KT8gOc30kdfS7mwWY6gTYmceYrkBL`)
    .join('\n'),
  CALMS_CLUSTER_WORK_ROOT: '/scratch/calms',
  CALMS_CLUSTER_RESTORE_SCRIPT: 'calms_restore.py',
};
const VPC = { CALMS_VPC_SUBNET_IDS: 'subnet-0a1, subnet-0b2', CALMS_VPC_SECURITY_GROUP_IDS: 'sg-0c3' };

let resources: Record<string, Resource>;
let outputs: Record<string, { Value: unknown }>;

beforeAll(() => {
  const copy = copyOfService('calms-package-');
  const out = path.join(copy.dir, 'package');
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1' };
  for (const name of Object.keys(env)) if (name.startsWith('CALMS_')) delete env[name];
  Object.assign(env, SITE, VPC);
  // Set, to show that no stage but the local ones takes the API key from the environment.
  env.CALMS_API_KEY = 'calms-key-from-the-environment';
  execFileSync(process.execPath, [path.join(copy.dir, 'node_modules/serverless/bin/serverless.js'), 'package', '--stage', 'ci', '--package', out], {
    cwd: copy.dir,
    env,
    stdio: 'pipe',
  });
  ({ Resources: resources, Outputs: outputs } = JSON.parse(fs.readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8')));
  copy.remove();
});

const CLUSTER_FUNCTIONS = [
  'chooseClusterNode',
  'submitCalibrationJob',
  'waitForCalibrationJob',
  'checkCalibrationJob',
  'reportCalibrationFailure',
  'stageMeasurementSets',
  'removeWorkDirectory',
  'cancelRequest',
  'watchExecutionEnd',
  'doctor',
];
const OTHER_FUNCTIONS = [
  'checkEntitlement',
  'emailRequestToAog',
  'notifyMaintainerOfFailure',
  'replyToRequest',
  'submitRequest',
  'lookForStagedMeasurementSets',
  'publishDelivery',
  'emailDownloadLink',
  'download',
  'acquireStagingSlot',
  'waitForStagingSlot',
  'releaseStagingSlot',
  'queue',
  'requestStatus',
  'triggers',
  'statistics',
  'keepDelivery',
  'resendDownloadEmail',
  'redriveRequest',
];

/** The functions that send mail, and those that reach the cluster or the archive database (the VPC's). */
const MAIL_FUNCTIONS = [
  'emailRequestToAog',
  'replyToRequest',
  'notifyMaintainerOfFailure',
  'reportCalibrationFailure',
  'emailDownloadLink',
  'cancelRequest',
  'resendDownloadEmail',
  'watchExecutionEnd',
  'doctor',
];
/** The functions that read the archive: the only ones that may read its password. */
const ARCHIVE_FUNCTIONS = ['submitRequest', 'checkEntitlement', 'lookForStagedMeasurementSets', 'doctor'];
const VPC_FUNCTIONS = [...CLUSTER_FUNCTIONS, ...ARCHIVE_FUNCTIONS];

const ofType = (type: string) => Object.values(resources).filter((resource) => resource.Type === type);

test('every Lambda runs on nodejs22.x with the CalMS environment', () => {
  const functions = ofType('AWS::Lambda::Function');
  expect(functions.map((fn) => fn.Properties.FunctionName).sort()).toEqual(
    [...CLUSTER_FUNCTIONS, ...OTHER_FUNCTIONS].map((name) => `calms-ci-${name}`).sort(),
  );
  for (const fn of functions) {
    expect(fn.Properties.Runtime).toBe('nodejs22.x');
    expect(fn.Properties.Environment.Variables.CALMS_DATA_BUCKET).toBe('calms-ci-data');
  }
});

test('only the cluster-facing Lambdas get the cluster settings, and the key only as the name of its secret', () => {
  for (const fn of ofType('AWS::Lambda::Function')) {
    const variables = fn.Properties.Environment.Variables;
    const facesCluster = CLUSTER_FUNCTIONS.some((name) => fn.Properties.FunctionName === `calms-ci-${name}`);
    expect(Object.keys(variables).some((name) => name.startsWith('CALMS_CLUSTER_'))).toBe(facesCluster);
    if (facesCluster) {
      expect(variables.CALMS_CLUSTER_PRIVATE_KEY).toBe('');
      expect(variables.CALMS_CLUSTER_PRIVATE_KEY_SECRET).toBe('calms/ci/cluster-private-key');
    }
  }
});

test('the state machine is the definition in statemachines/, with Lambda references resolved', () => {
  const [machine] = ofType('AWS::StepFunctions::StateMachine');
  const [template, substitutions] = machine!.Properties.DefinitionString['Fn::Sub'];
  const deployed = JSON.parse(template);
  const source = yaml.load(fs.readFileSync(path.join(ROOT, 'statemachines/calms.asl.yml'), 'utf8')) as { States: Record<string, { Type: string }> };
  expect(Object.keys(deployed.States)).toEqual(Object.keys(source.States));
  expect(machine!.Properties.StateMachineName).toBe('calms-ci');
  const reference = deployed.States.CheckEntitlement.Resource.replace(/^\$\{|\}$/g, '');
  expect(substitutions[reference]).toEqual({ 'Fn::GetAtt': ['CheckEntitlementLambdaFunction', 'Arn'] });
});

test('an EventBridge rule sends every FAILED, TIMED_OUT or ABORTED end of this state machine, and nothing else, to the watcher', () => {
  const rules = ofType('AWS::Events::Rule');
  expect(rules).toHaveLength(1);
  const rule = rules[0]!.Properties;
  expect(rule.EventPattern).toEqual({
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    detail: {
      stateMachineArn: [{ 'Fn::Sub': 'arn:aws:states:${AWS::Region}:${AWS::AccountId}:stateMachine:calms-ci' }],
      status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
    },
  });
  expect(rule.State).toBe('ENABLED');
  expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': ['WatchExecutionEndLambdaFunction', 'Arn'] } })]);
  const permissions = ofType('AWS::Lambda::Permission').filter((permission) => permission.Properties.Principal === 'events.amazonaws.com');
  expect(permissions.map((permission) => permission.Properties.FunctionName)).toEqual([{ 'Fn::GetAtt': ['WatchExecutionEndLambdaFunction', 'Arn'] }]);
});

test("POST /requests, GET /queue and the operators' routes require an API key; only /downloads and what is under it are public", () => {
  const methods = ofType('AWS::ApiGateway::Method').map((method) => method.Properties);
  const resourceOf = (method: Record<string, any>) => method.ResourceId.Ref as string;
  expect(methods.map((method) => [method.HttpMethod, resourceOf(method), method.ApiKeyRequired]).sort()).toEqual(
    [
      ['ANY', 'ApiGatewayResourceDownloads', false],
      ['ANY', 'ApiGatewayResourceDownloadsProxyVar', false],
      ['GET', 'ApiGatewayResourceQueue', true],
      ['GET', 'ApiGatewayResourceRequests', true],
      ['GET', 'ApiGatewayResourceRequestsRequestidVar', true],
      ['GET', 'ApiGatewayResourceTriggers', true],
      ['GET', 'ApiGatewayResourceStatistics', true],
      ['GET', 'ApiGatewayResourceDoctor', true],
      ['POST', 'ApiGatewayResourceRequests', true],
      ['POST', 'ApiGatewayResourceRequestsRequestidVarCancel', true],
      ['POST', 'ApiGatewayResourceRequestsRequestidVarKeep', true],
      ['POST', 'ApiGatewayResourceRequestsRequestidVarResend', true],
      ['POST', 'ApiGatewayResourceRequestsRequestidVarRedrive', true],
      ['DELETE', 'ApiGatewayResourceRequestsRequestidVarKeep', true],
    ].sort(),
  );
  expect(ofType('AWS::ApiGateway::ApiKey')).toHaveLength(1);
  expect(ofType('AWS::ApiGateway::UsagePlanKey')).toHaveLength(1);
});

test('the data bucket has the lifecycle rules the local cloud applies: tagged deliveries expire, stale uploads go', () => {
  const bucket = resources.DataBucket!;
  expect(bucket.Properties.BucketName).toBe('calms-ci-data');
  // The rules of lib/storage/lifecycle.ts, in CloudFormation's spelling.
  const expected = dataBucketLifecycleRules(28).map((rule) => ({
    Id: rule.ID,
    Status: rule.Status,
    ...(rule.Filter?.Tag ? { TagFilters: [rule.Filter.Tag] } : { Prefix: rule.Filter?.Prefix }),
    ...(rule.Expiration ? { ExpirationInDays: rule.Expiration.Days } : {}),
    ...(rule.AbortIncompleteMultipartUpload ? { AbortIncompleteMultipartUpload: rule.AbortIncompleteMultipartUpload } : {}),
  }));
  expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(expected);
});

test('the download links point at the API itself unless CALMS_DOWNLOAD_URL says otherwise', () => {
  const download = ofType('AWS::Lambda::Function').find((fn) => fn.Properties.FunctionName === 'calms-ci-emailDownloadLink')!;
  expect(download.Properties.Environment.Variables.CALMS_DOWNLOAD_URL).toEqual({
    'Fn::Sub': 'https://${ApiGatewayRestApi}.execute-api.${AWS::Region}.amazonaws.com/ci',
  });
});

describe('least privilege: each function has a role of its own with only what it does', () => {
  type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
  /** One action on one resource; a CloudFormation Fn::Sub resource as its pattern. */
  type Grant = { action: string; resource: string };

  const BUCKET = 'arn:aws:s3:::calms-ci-data';
  const STATE_MACHINE = 'arn:aws:states:${AWS::Region}:${AWS::AccountId}:stateMachine:calms-ci';
  const EXECUTIONS = 'arn:aws:states:${AWS::Region}:${AWS::AccountId}:execution:calms-ci:*';
  const CLUSTER_KEY = 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:calms/ci/cluster-private-key-??????';
  const SMTP_LOGIN = 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:calms/ci/smtp-credentials-??????';
  const ARCHIVE_PASSWORD = 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:calms/ci/archive-password-??????';
  const ALL_FUNCTIONS = [...CLUSTER_FUNCTIONS, ...OTHER_FUNCTIONS];

  const lambdaNamed = (name: string) => ofType('AWS::Lambda::Function').find((fn) => fn.Properties.FunctionName === `calms-ci-${name}`)!;
  const roleIdOf = (name: string) => lambdaNamed(name).Properties.Role['Fn::GetAtt'][0] as string;
  const statementsOf = (roleId: string): Statement[] =>
    resources[roleId]!.Properties.Policies.flatMap((policy: { PolicyDocument: { Statement: Statement[] } }) => policy.PolicyDocument.Statement);
  const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
  const resourceText = (resource: unknown) =>
    typeof resource === 'string' ? resource : ((resource as Record<string, string>)['Fn::Sub'] ?? JSON.stringify(resource));
  const isLogging = (statement: Statement) => asList(statement.Action).every((action) => action.startsWith('logs:'));
  /** What the function may do besides writing its own logs. */
  const grantsOf = (name: string): Grant[] =>
    statementsOf(roleIdOf(name))
      .filter((statement) => !isLogging(statement))
      .flatMap((statement) => {
        expect(statement.Effect).toBe('Allow');
        return asList(statement.Action).flatMap((action) =>
          asList(statement.Resource).map((resource) => ({ action, resource: resourceText(resource) })),
        );
      });
  const actionsOf = (name: string) => [...new Set(grantsOf(name).map((grant) => grant.action))].sort();

  test('every function runs under a role of its own, which writes only to its own log group', () => {
    const roleIds = ALL_FUNCTIONS.map(roleIdOf);
    expect(new Set(roleIds).size).toBe(ALL_FUNCTIONS.length);
    for (const name of ALL_FUNCTIONS) {
      // The shared IamRoleLambdaExecution is what a function without its own iamRoleStatements would get.
      expect(roleIdOf(name)).toBe(`${name[0]!.toUpperCase()}${name.slice(1)}IamRoleLambdaExecution`);
      const logging = statementsOf(roleIdOf(name)).filter(isLogging);
      expect(logging.flatMap((statement) => asList(statement.Resource).map(resourceText))).toEqual([
        `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/calms-ci-${name}:*:*`,
      ]);
      // In a VPC, the managed policy that lets Lambda attach it to the VPC; nothing else.
      expect(resources[roleIdOf(name)]!.Properties.ManagedPolicyArns ?? []).toEqual(
        VPC_FUNCTIONS.includes(name)
          ? [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] }]
          : [],
      );
    }
    // The plugin still creates the shared role as its template: it may only log, and no function uses it.
    const shared = resources.IamRoleLambdaExecution;
    if (shared) expect(statementsOf('IamRoleLambdaExecution').every(isLogging)).toBe(true);
  });

  test('no function may do every action of a service, or act on every resource', () => {
    for (const name of ALL_FUNCTIONS) {
      for (const grant of grantsOf(name)) {
        expect(grant.action).not.toContain('*');
        expect(grant.resource).not.toBe('*');
        if (grant.action.startsWith('s3:')) expect(grant.resource === BUCKET || grant.resource.startsWith(`${BUCKET}/`)).toBe(true);
      }
    }
  });

  test('the public download reads tokens, manifests and their retention tag, and presigns GETs under deliveries/ only', () => {
    expect(grantsOf('download')).toEqual(
      expect.arrayContaining([
        { action: 's3:ListBucket', resource: BUCKET },
        { action: 's3:GetObject', resource: `${BUCKET}/deliveries/*` },
        { action: 's3:GetObject', resource: `${BUCKET}/downloads/*` },
        { action: 's3:GetObjectTagging', resource: `${BUCKET}/deliveries/*` },
      ]),
    );
    expect(grantsOf('download')).toHaveLength(4);
  });

  test('the routes that only look write nothing and start or stop nothing', () => {
    const writes = /^(s3:(Put|Delete|Abort|Restore)|states:(Start|Stop|Send|Delete|Update|Create)|secretsmanager:)/;
    for (const name of ['download', 'requestStatus', 'triggers', 'statistics']) {
      expect(actionsOf(name).filter((action) => writes.test(action))).toEqual([]);
    }
    // Checking entitlement reads only the archive, and so its password.
    expect(grantsOf('checkEntitlement')).toEqual([{ action: 'secretsmanager:GetSecretValue', resource: ARCHIVE_PASSWORD }]);
  });

  test('only the functions that talk to the cluster may read the cluster key, only those that send mail the SMTP login, only those that read the archive its password, and no other secret', () => {
    for (const name of ALL_FUNCTIONS) {
      const secrets = grantsOf(name).filter((grant) => grant.action.startsWith('secretsmanager:'));
      expect(secrets.map((grant) => `${grant.action} ${grant.resource}`).sort()).toEqual(
        [
          ...(CLUSTER_FUNCTIONS.includes(name) ? [CLUSTER_KEY] : []),
          ...(MAIL_FUNCTIONS.includes(name) ? [SMTP_LOGIN] : []),
          ...(ARCHIVE_FUNCTIONS.includes(name) ? [ARCHIVE_PASSWORD] : []),
        ]
          .map((secret) => `secretsmanager:GetSecretValue ${secret}`)
          .sort(),
      );
    }
  });

  test('Step Functions: only this state machine and its executions; intake may only start them, only cancel may stop them', () => {
    const statesGrants = ALL_FUNCTIONS.flatMap((name) =>
      grantsOf(name)
        .filter((grant) => grant.action.startsWith('states:'))
        .map((grant) => ({ name, ...grant })),
    );
    for (const grant of statesGrants) {
      expect(grant.resource).toBe(
        ['states:StartExecution', 'states:ListExecutions', 'states:DescribeStateMachine'].includes(grant.action) ? STATE_MACHINE : EXECUTIONS,
      );
    }
    expect(actionsOf('submitRequest').filter((action) => action.startsWith('states:'))).toEqual(['states:StartExecution']);
    const holders = (action: string) => [...new Set(statesGrants.filter((grant) => grant.action === action).map((grant) => grant.name))].sort();
    expect(holders('states:StartExecution')).toEqual(['redriveRequest', 'submitRequest']);
    expect(holders('states:StopExecution')).toEqual(['cancelRequest']);
  });

  test('the calibration failure report may keep the job log beside the request, and nothing else of the request', () => {
    const requestGrants = grantsOf('reportCalibrationFailure').filter((grant) => grant.resource.startsWith(`${BUCKET}/requests/`));
    expect(requestGrants).toEqual(
      expect.arrayContaining([
        { action: 's3:PutObject', resource: `${BUCKET}/requests/*/calms-job*.log` },
        { action: 's3:AbortMultipartUpload', resource: `${BUCKET}/requests/*/calms-job*.log` },
      ]),
    );
    expect(requestGrants.every((grant) => /\/requests\/\*\/(calms-job\*\.log|sent\/\*)$/.test(grant.resource))).toBe(true);
  });

  test('the execution-end watcher reads executions but starts and stops none, and leaves the trigger alone', () => {
    expect(actionsOf('watchExecutionEnd').filter((action) => action.startsWith('states:'))).toEqual([
      'states:DescribeExecution',
      'states:GetExecutionHistory',
    ]);
    expect(grantsOf('watchExecutionEnd').filter((grant) => /\/(triggers|claims)\//.test(grant.resource))).toEqual([]);
    expect(grantsOf('watchExecutionEnd')).toContainEqual({ action: 's3:DeleteObject', resource: `${BUCKET}/requests/*/sent/*` });
  });

  test("the smoke check only looks: the state machine, the bucket's lifecycle rules, the cluster key, the SMTP login and the archive's password, nothing else", () => {
    expect(grantsOf('doctor').sort((a, b) => a.action.localeCompare(b.action))).toEqual([
      { action: 's3:GetLifecycleConfiguration', resource: BUCKET },
      { action: 'secretsmanager:GetSecretValue', resource: SMTP_LOGIN },
      { action: 'secretsmanager:GetSecretValue', resource: CLUSTER_KEY },
      { action: 'secretsmanager:GetSecretValue', resource: ARCHIVE_PASSWORD },
      { action: 'states:DescribeStateMachine', resource: STATE_MACHINE },
    ]);
  });

  test('API Gateway generates the API key off the local stages, and the usage plan throttles and has a daily quota', () => {
    const [key] = ofType('AWS::ApiGateway::ApiKey');
    expect(key!.Properties.Value).toBeUndefined();
    expect(outputs.ApiKeyId!.Value).toEqual({ Ref: Object.keys(resources).find((id) => resources[id] === key) });
    const [plan] = ofType('AWS::ApiGateway::UsagePlan');
    expect(plan!.Properties.Throttle).toEqual({ RateLimit: 10, BurstLimit: 20 });
    expect(plan!.Properties.Quota).toEqual({ Limit: expect.any(Number), Period: 'DAY' });
  });
});

describe('a deployment a site can run', () => {
  const lambdas = () => ofType('AWS::Lambda::Function');
  const nameOf = (fn: Resource) => (fn.Properties.FunctionName as string).replace(/^calms-ci-/, '');
  /** A CloudFormation value (a Fn::Sub, a Ref) as what it becomes on AWS, in form at least. */
  const deployed = (value: unknown) => (typeof value === 'string' ? value : 'https://abc123.execute-api.eu-west-1.amazonaws.com/ci');

  test('the functions that reach the cluster or the archive database run in the VPC the site names, the others outside', () => {
    for (const fn of lambdas()) {
      const vpc = fn.Properties.VpcConfig;
      if (VPC_FUNCTIONS.includes(nameOf(fn))) expect(vpc).toEqual({ SubnetIds: ['subnet-0a1', 'subnet-0b2'], SecurityGroupIds: ['sg-0c3'] });
      else expect(vpc).toBeUndefined();
    }
  });

  test("every function's environment holds everything it reads at cold start: no required variable is empty", () => {
    for (const fn of lambdas()) {
      const env = Object.fromEntries(
        Object.entries(fn.Properties.Environment.Variables as Record<string, unknown>).map(([name, value]) => [name, deployed(value)]),
      );
      expect(() => serviceConfig(env)).not.toThrow();
      expect(() => logLevel(env)).not.toThrow();
      if (CLUSTER_FUNCTIONS.includes(nameOf(fn))) expect(clusterConfig(env).privateKey).toEqual({ secretId: 'calms/ci/cluster-private-key' });
      // Off the local cloud mail goes out over STARTTLS only.
      expect(serviceConfig(env).smtp.requireTls).toBe(true);
      // The archive's password is named by its secret, never written into the template.
      expect(serviceConfig(env).archive).toEqual({
        location: expect.objectContaining({ dialect: 'postgres', host: 'archive.arc.example.org', tls: true }),
        passwordSecret: 'calms/ci/archive-password',
      });
      expect(serviceConfig(env).archive.location).not.toHaveProperty('password');
    }
  });

  test('the runbook names every variable a site must set and every secret it must create', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const runbook = readme.slice(readme.indexOf('## Deploy to AWS'), readme.indexOf('\n## ', readme.indexOf('## Deploy to AWS') + 1));
    expect(runbook.length).toBeGreaterThan(1000);
    const required = (Object.entries(VARIABLES) as [string, Variable][])
      .filter(([, variable]) => variable.scope !== 'local' && variable.default === undefined)
      .map(([name]) => name);
    for (const name of [...new Set([...Object.keys(SITE), ...Object.keys(VPC), ...required])]) expect(runbook).toContain(name);
    for (const name of [
      'CALMS_CLUSTER_PRIVATE_KEY_SECRET',
      'CALMS_SMTP_CREDENTIALS_SECRET',
      'CALMS_ARCHIVE_PASSWORD_SECRET',
      'calms/<stage>/cluster-private-key',
      'npm run archive:load',
    ])
      expect(runbook).toContain(name);
  });
});
