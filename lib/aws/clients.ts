/**
 * AWS clients configured for where CalMS runs: AWS itself, LocalStack, Ceph RGW or the embedded local cloud.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ConfigurationError } from '../config';
import { isJsonObject } from '../json';

export interface AwsEndpointConfig {
  readonly awsEndpoint?: string;
}

export function createS3Client(config: AwsEndpointConfig): S3Client {
  if (!config.awsEndpoint) return new S3Client({});
  return new S3Client({
    endpoint: config.awsEndpoint,
    // Local S3 servers (s3rver, LocalStack, Ceph) are addressed by path, not by bucket host name.
    forcePathStyle: true,
    // s3rver stores a streamed PutObject corrupted when the SDK adds its default CRC32 trailer.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The endpoint setting of a JSON-protocol client: none on AWS, where the SDK finds it. */
const endpointOf = (config: AwsEndpointConfig) => (config.awsEndpoint ? { endpoint: config.awsEndpoint } : {});

export function createSfnClient(config: AwsEndpointConfig): SFNClient {
  return new SFNClient(endpointOf(config));
}

/** The text of a Secrets Manager secret; a missing or binary secret is a configuration mistake. */
export async function readSecretText(config: AwsEndpointConfig, secretId: string): Promise<string> {
  const client = new SecretsManagerClient(endpointOf(config));
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!SecretString) throw new ConfigurationError(`the secret ${secretId} holds no text`);
    return SecretString;
  } finally {
    client.destroy();
  }
}

/**
 * The text fields of a secret that holds JSON, e.g. `{"username": …, "password": …}`; other keys are ignored.
 * @param what what the secret holds, for the message, e.g. "the SMTP login"
 * @throws ConfigurationError naming the secret and the format when it is not JSON or a field is missing or empty
 */
export function secretFields<K extends string>(text: string, secretId: string, fields: readonly K[], what: string): Record<K, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const values = (isJsonObject(parsed) ? parsed : {}) as Record<string, unknown>;
  if (fields.some((field) => typeof values[field] !== 'string' || values[field] === '')) {
    throw new ConfigurationError(`the secret ${secretId} must hold ${what} as JSON {${fields.map((field) => `"${field}": "…"`).join(', ')}}`);
  }
  return Object.fromEntries(fields.map((field) => [field, values[field]])) as Record<K, string>;
}
