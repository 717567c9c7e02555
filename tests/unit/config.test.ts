/**
 * lib/config.ts is the one place CalMS reads its settings: serverless.yml, .env.example and the README must
 * name exactly the variables it declares, and a bad value must fail at cold start naming the variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { ConfigurationError, localEnvironment, logLevel, serviceConfig, VARIABLES, type Variable, type VariableName } from '../../lib/config';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

const declared = Object.entries(VARIABLES) as [VariableName, Variable][];
const serviceVariables = declared.filter(([, variable]) => variable.scope === 'service').map(([name]) => name);

/** serverless.yml may use CloudFormation's short-form tags (`!Sub`, `!Ref`, …); read each as its long form. */
const CLOUDFORMATION_SCHEMA = yaml.DEFAULT_SCHEMA.extend(
  ['Base64', 'Cidr', 'Equals', 'FindInMap', 'GetAtt', 'GetAZs', 'If', 'ImportValue', 'Join', 'Not', 'Ref', 'Select', 'Split', 'Sub'].flatMap((tag) =>
    (['scalar', 'sequence', 'mapping'] as const).map(
      (kind) => new yaml.Type(`!${tag}`, { kind, construct: (data: unknown) => ({ [tag === 'Ref' ? 'Ref' : `Fn::${tag}`]: data }) }),
    ),
  ),
);

interface ServerlessYml {
  provider: { environment?: Environment };
  functions: Record<string, { environment?: Environment }>;
}

/** A function's environment is a map, or a `${self:…}` reference to one elsewhere in serverless.yml. */
type Environment = Record<string, unknown> | string;

function resolveEnvironment(template: ServerlessYml, environment: Environment | undefined): Record<string, unknown> {
  if (typeof environment !== 'string') return environment ?? {};
  const reference = /^\$\{self:([\w.]+)\}$/.exec(environment);
  const resolved = reference?.[1]?.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], template);
  if (!resolved || typeof resolved !== 'object') throw new Error(`serverless.yml: cannot resolve the environment "${environment}"`);
  return resolved as Record<string, unknown>;
}

/** Every variable serverless.yml gives the deployed Lambdas, for all of them or for single functions. */
function deployedVariables(): string[] {
  const template = yaml.load(read('serverless.yml'), { schema: CLOUDFORMATION_SCHEMA }) as ServerlessYml;
  const blocks = [template.provider.environment, ...Object.values(template.functions).map((fn) => fn.environment)];
  return [...new Set(blocks.flatMap((block) => Object.keys(resolveEnvironment(template, block))))].sort();
}

/** `NAME=value` and commented-out `# NAME=` lines of .env.example. */
function envExampleLines(): { name: string; value: string; commented: boolean }[] {
  return [...read('.env.example').matchAll(/^(# )?(CALMS_[A-Z0-9_]+)=(.*)$/gm)].map(([, comment, name, value]) => ({
    name: name!,
    value: value!,
    commented: comment !== undefined,
  }));
}

describe('the variables lib/config.ts declares', () => {
  test("every service variable is passed to the Lambdas by serverless.yml's environment", () => {
    // Prepare
    const deployed = deployedVariables();

    // Act
    const missing = serviceVariables.filter((name) => !deployed.includes(name));

    // Assess
    expect(missing).toEqual([]);
  });

  test('serverless.yml passes the Lambdas no variable that the config does not declare for the service', () => {
    // Act
    const undeclared = deployedVariables().filter((name) => !(serviceVariables as string[]).includes(name));

    // Assess
    expect(undeclared).toEqual([]);
  });

  test('every variable read only when packaging is read by serverless.yml or deploy/, and passed to no Lambda', () => {
    // Prepare
    const packaging = [read('serverless.yml'), ...fs.readdirSync(path.join(ROOT, 'deploy')).map((file) => read(`deploy/${file}`))].join('\n');
    const deployOnly = declared.filter(([, variable]) => variable.scope === 'deploy').map(([name]) => name);

    // Assess
    expect(deployOnly.length).toBeGreaterThan(0);
    expect(deployOnly.filter((name) => !packaging.includes(`env:${name}`))).toEqual([]);
    expect(deployedVariables().filter((name) => (deployOnly as string[]).includes(name))).toEqual([]);
  });

  test('.env.example lists exactly the declared variables, each once', () => {
    // Act
    const listed = envExampleLines().map((line) => line.name);

    // Assess
    expect([...listed].sort()).toEqual(declared.map(([name]) => name).sort());
  });

  test('.env.example gives the value the local cloud uses when a variable is unset, and comments out those it must generate', () => {
    // Prepare
    const lines = new Map(envExampleLines().map((line) => [line.name, line]));

    // Act
    const wrong = declared.flatMap(([name, variable]) => {
      const value = variable.local ?? variable.default;
      const expected = value === undefined ? `# ${name}=` : `${name}=${value}`;
      const line = lines.get(name);
      const found = line && `${line.commented ? '# ' : ''}${name}=${line.value}`;
      return found === expected ? [] : [`expected ${expected}, found ${found ?? 'nothing'}`];
    });

    // Assess
    expect(wrong).toEqual([]);
  });

  test('README.md names every declared variable', () => {
    // Prepare
    const readme = read('README.md');

    // Act
    const missing = declared.map(([name]) => name).filter((name) => !new RegExp(`\\b${name}\\b`).test(readme));

    // Assess
    expect(missing).toEqual([]);
  });
});

describe('serviceConfig', () => {
  /** The complete environment of the local cloud's Lambdas, with one variable changed or removed. */
  const environment = (name: VariableName, value: string | undefined): Record<string, string | undefined> => ({
    ...localEnvironment({}),
    [name]: value,
  });

  test('reads the local cloud environment', () => {
    // Act
    const config = serviceConfig(localEnvironment({}));

    // Assess
    expect(config).toMatchObject({
      stage: 'local',
      dataBucket: 'calms-data',
      smtp: { host: '127.0.0.1', port: 1025 },
      retentionDays: 28,
    });
  });

  test.each<VariableName>([
    'CALMS_DATA_BUCKET',
    'CALMS_STATE_MACHINE_ARN',
    'CALMS_SMTP_HOST',
    'CALMS_MAIL_FROM',
    'CALMS_AOG_EMAIL',
    'CALMS_MAINTAINER_EMAIL',
    'CALMS_NOREPLY_EMAIL',
    'CALMS_ARCHIVE_URL',
  ])('throws a ConfigurationError naming %s when the required variable is unset or blank', (name) => {
    // Act
    const unset = () => serviceConfig(environment(name, undefined));
    const blank = () => serviceConfig(environment(name, '  '));

    // Assess
    expect(unset).toThrow(ConfigurationError);
    expect(unset).toThrow(new RegExp(`^${name} is not set`));
    expect(blank).toThrow(new RegExp(`^${name} is not set`));
  });

  test.each<[VariableName, string]>([
    ['CALMS_SMTP_PORT', 'smtp'],
    ['CALMS_SMTP_PORT', '25.5'],
    ['CALMS_SMTP_PORT', '0'],
    ['CALMS_RETENTION_DAYS', '28 days'],
    ['CALMS_RETENTION_DAYS', '-1'],
  ])('throws a ConfigurationError naming %s when it is the malformed number %j', (name, value) => {
    // Act
    const reading = () => serviceConfig(environment(name, value));

    // Assess
    expect(reading).toThrow(ConfigurationError);
    expect(reading).toThrow(`${name} must be a whole number of at least 1, got "${value}"`);
  });

  test('refuses a waiting step as long as the slot lease: a holder renews its lease once per step', () => {
    // Act
    const reading = () => serviceConfig({ ...environment('CALMS_WAIT_STEP_SECONDS', '1800'), CALMS_STAGING_LEASE_SECONDS: '1800' });
    const defaults = serviceConfig({ ...environment('CALMS_WAIT_STEP_SECONDS', undefined), CALMS_STAGING_LEASE_SECONDS: undefined });

    // Assess
    expect(reading).toThrow(ConfigurationError);
    expect(reading).toThrow('CALMS_WAIT_STEP_SECONDS (1800) must be shorter than CALMS_STAGING_LEASE_SECONDS (1800)');
    expect(defaults.slots).toMatchObject({ stepSeconds: 840, leaseSeconds: 1800 });
  });
});

describe('SMTP settings', () => {
  test('off the local cloud, mail goes out only over STARTTLS, without a login unless its secret is named', () => {
    // Act
    const { smtp } = serviceConfig({ ...localEnvironment({}), CALMS_SMTP_REQUIRE_TLS: undefined });

    // Assess
    expect(smtp).toEqual({ host: '127.0.0.1', port: 1025, requireTls: true, credentialsSecret: undefined });
  });

  test('the local cloud sends to MailDev in clear text; a named secret is where the login is read', () => {
    // Act
    const { smtp } = serviceConfig(localEnvironment({ CALMS_SMTP_CREDENTIALS_SECRET: 'calms/prod/smtp-credentials' }));

    // Assess
    expect(smtp).toMatchObject({ requireTls: false, credentialsSecret: 'calms/prod/smtp-credentials' });
  });

  test('CALMS_SMTP_REQUIRE_TLS other than true or false fails naming it', () => {
    // Act
    const reading = () => serviceConfig({ ...localEnvironment({}), CALMS_SMTP_REQUIRE_TLS: 'yes' });

    // Assess
    expect(reading).toThrow(new ConfigurationError('CALMS_SMTP_REQUIRE_TLS must be true or false, got "yes"'));
  });
});

describe('logLevel', () => {
  it('is info when CALMS_LOG_LEVEL is unset, and reads the level in any case', () => {
    expect(logLevel({})).toBe('info');
    expect(logLevel({ CALMS_LOG_LEVEL: 'WARN' })).toBe('warn');
  });

  it('refuses a level the logger does not know, naming the variable', () => {
    expect(() => logLevel({ CALMS_LOG_LEVEL: 'verbose' })).toThrow('CALMS_LOG_LEVEL must be one of debug, info, warn, error, got "verbose"');
  });
});
