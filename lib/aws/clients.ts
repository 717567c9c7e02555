/**
 * AWS clients configured for where CalMS runs: AWS itself, LocalStack, Ceph RGW or the embedded local cloud.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';

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

export function createSfnClient(config: AwsEndpointConfig): SFNClient {
  return new SFNClient(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {});
}
