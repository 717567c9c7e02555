/**
 * The settings under which the integration tests run the local cloud: ports and a state directory of their
 * own, so that a developer's `npm start` on the default ports keeps running beside the tests.
 */
import path from 'node:path';

export const TEST_STATE_DIR = path.resolve(__dirname, '../../../.calms-test');

export const TEST_CLOUD_ENV: Record<string, string> = {
  CALMS_STATE_DIR: TEST_STATE_DIR,
  CALMS_ARCHIVE_DB: path.join(TEST_STATE_DIR, 'archive.sqlite'),
  CALMS_API_PORT: '13000',
  CALMS_LAMBDA_PORT: '13002',
  CALMS_EDGE_PORT: '14566',
  CALMS_STEPFUNCTIONS_PORT: '14567',
  CALMS_S3_PORT: '14568',
  CALMS_SMTP_PORT: '11025',
  CALMS_MAIL_WEB_PORT: '11080',
  CALMS_SSH_PORT: '12222',
  CALMS_AWS_ENDPOINT: 'http://127.0.0.1:14566',
  CALMS_API_URL: 'http://127.0.0.1:13000/local',
  CALMS_CLUSTER_NODES: '127.0.0.1:12222,127.0.0.1:12223,127.0.0.1:12224',
};
