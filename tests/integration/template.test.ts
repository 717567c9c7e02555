/**
 * `serverless package` produces the CloudFormation template CalMS deploys: Lambdas on nodejs22.x, the state
 * machine from statemachines/, an API whose routes need an API key, and the data bucket's lifecycle rule.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { dataBucketLifecycleRules } from '../../lib/storage/lifecycle';
import { copyOfService } from './support/serviceCopy';

const ROOT = path.resolve(__dirname, '../..');
type Resource = { Type: string; Properties: Record<string, any> };

let resources: Record<string, Resource>;

beforeAll(() => {
  const copy = copyOfService('calms-package-');
  const out = path.join(copy.dir, 'package');
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1' };
  for (const name of Object.keys(env)) if (name.startsWith('CALMS_')) delete env[name];
  execFileSync(process.execPath, [path.join(copy.dir, 'node_modules/serverless/bin/serverless.js'), 'package', '--stage', 'ci', '--package', out], {
    cwd: copy.dir,
    env,
    stdio: 'pipe',
  });
  resources = JSON.parse(fs.readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8')).Resources;
  copy.remove();
});

const CLUSTER_FUNCTIONS = [
  'chooseClusterNode',
  'submitCalibrationJob',
  'checkCalibrationJob',
  'reportCalibrationFailure',
  'stageMeasurementSets',
  'removeWorkDirectory',
  'cancelRequest',
];
const OTHER_FUNCTIONS = [
  'checkEntitlement',
  'emailRequestToAog',
  'notifyMaintainer',
  'replyToRequest',
  'submitRequest',
  'lookForStagedMeasurementSets',
  'publishDelivery',
  'emailDownloadLink',
  'download',
  'acquireStagingSlot',
  'releaseStagingSlot',
  'queue',
  'requestStatus',
  'triggers',
  'statistics',
  'keepDelivery',
  'resendDownloadEmail',
  'redriveRequest',
];

const ofType = (type: string) => Object.values(resources).filter((resource) => resource.Type === type);

test('every Lambda runs on nodejs22.x with the CalMS environment', () => {
  const functions = ofType('AWS::Lambda::Function');
  expect(functions.map((fn) => fn.Properties.FunctionName).sort()).toEqual(
    [...CLUSTER_FUNCTIONS, ...OTHER_FUNCTIONS]
      .map((name) => `calms-ci-${name}`)
      .sort(),
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
  const statements = resources.IamRoleLambdaExecution!.Properties.Policies[0].PolicyDocument.Statement;
  expect(statements).toContainEqual(
    expect.objectContaining({
      Action: ['secretsmanager:GetSecretValue'],
      Resource: { 'Fn::Sub': 'arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:calms/ci/cluster-private-key*' },
    }),
  );
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

test('POST /requests, GET /queue and the operators\' routes require an API key; the download links are public GETs', () => {
  const methods = ofType('AWS::ApiGateway::Method').map((method) => method.Properties);
  const resourceOf = (method: Record<string, any>) => method.ResourceId.Ref as string;
  expect(methods.map((method) => [method.HttpMethod, resourceOf(method), method.ApiKeyRequired]).sort()).toEqual([
    ['GET', 'ApiGatewayResourceDownloadsTokenVar', false],
    ['GET', 'ApiGatewayResourceDownloadsTokenVarFileVar', false],
    ['GET', 'ApiGatewayResourceQueue', true],
    ['GET', 'ApiGatewayResourceRequests', true],
    ['GET', 'ApiGatewayResourceRequestsRequestidVar', true],
    ['GET', 'ApiGatewayResourceTriggers', true],
    ['GET', 'ApiGatewayResourceStatistics', true],
    ['POST', 'ApiGatewayResourceRequests', true],
    ['POST', 'ApiGatewayResourceRequestsRequestidVarCancel', true],
    ['POST', 'ApiGatewayResourceRequestsRequestidVarKeep', true],
    ['POST', 'ApiGatewayResourceRequestsRequestidVarResend', true],
    ['POST', 'ApiGatewayResourceRequestsRequestidVarRedrive', true],
    ['DELETE', 'ApiGatewayResourceRequestsRequestidVarKeep', true],
  ].sort());
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
