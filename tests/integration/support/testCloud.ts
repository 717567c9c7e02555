/**
 * The settings under which the integration tests run the local cloud: ports and a state directory of their
 * own, so that a developer's `npm start` on the default ports keeps running beside the tests.
 */
import path from 'node:path';

export const TEST_STATE_DIR = path.resolve(__dirname, '../../../.calms-test');

/** The stand-in casa fails for this MOUS, with exit status 3. */
export const FAILING_MOUS = 'uid___A001_X3a0_X202';
/** The stand-in casa never finishes for these; the cluster's least loaded node is 127.0.0.1:12223. */
export const HANGING_MOUS = 'uid___A001_X3a0_X203';
export const NODE_LOST_MOUS = 'uid___A001_X3a0_X204';
/** Ten MOUS the slot tests queue at once. */
export const QUEUED_MOUS = Array.from({ length: 10 }, (_, index) => `uid___A001_X3a1_X3${(index + 1).toString(16).padStart(2, '0')}`);

export const TEST_CLOUD_ENV: Record<string, string> = {
  // Exported as a LocalStack user would: s3rver knows none of it, the edge lets any key through.
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  CALMS_STATE_DIR: TEST_STATE_DIR,
  CALMS_ARCHIVE_URL: path.join(TEST_STATE_DIR, 'archive.sqlite'),
  CALMS_API_PORT: '13000',
  CALMS_LAMBDA_PORT: '13002',
  CALMS_EDGE_PORT: '14566',
  CALMS_STEPFUNCTIONS_PORT: '14567',
  CALMS_S3_PORT: '14568',
  CALMS_SMTP_PORT: '11025',
  CALMS_MAIL_WEB_PORT: '11080',
  CALMS_CONSOLE_PORT: '13080',
  CALMS_SSH_PORT: '12222',
  CALMS_AWS_ENDPOINT: 'http://127.0.0.1:14566',
  CALMS_API_URL: 'http://127.0.0.1:13000/local',
  CALMS_DOWNLOAD_URL: 'http://127.0.0.1:13000/local',
  CALMS_CLUSTER_NODES: '127.0.0.1:12222,127.0.0.1:12223,127.0.0.1:12224',
  // Calibration in seconds, not hours; the injected failures use MOUS of the snapshot kept for them.
  CALMS_SSH_LOADS: '1.5,0.2,0.8',
  CALMS_CASA_EMULATOR_SECONDS: '1',
  // Three parts of 5 MiB per MS, and a staging step that stops after each part: a transfer in several
  // invocations, as a calibrated MS of hundreds of GB would need on AWS.
  CALMS_CASA_EMULATOR_BYTES: String(11 * 1024 * 1024),
  CALMS_STAGING_PART_MIB: '5',
  CALMS_STAGING_STEP_SECONDS: '0',
  // A slot held by a Lambda that crashed is free again within 12 s (one whose execution ended, as soon as a waiting
  // request looks); waiting requests look every second. Shorter leases ran out between two steps of a live holder on
  // a machine loaded by eight test runs.
  CALMS_STAGING_LEASE_SECONDS: '12',
  CALMS_STAGING_SLOT_WAIT_SECONDS: '1',
  // A waiting step renews the lease before and after it: well within it, also on a busy machine.
  CALMS_WAIT_STEP_SECONDS: '1',
  CALMS_CASA_EMULATOR_CALIBRATOR_BYTES: '8192',
  CALMS_CASA_EMULATOR_FAIL_MOUS: FAILING_MOUS,
  CALMS_CASA_EMULATOR_FAIL_EXIT_CODE: '3',
  CALMS_CASA_EMULATOR_HANG_MOUS: [HANGING_MOUS, NODE_LOST_MOUS].join(','),
  CALMS_CLUSTER_POLL_SECONDS: '1',
  CALMS_CLUSTER_MAX_RUNTIME_SECONDS: '12',
  CALMS_CLUSTER_CONNECT_TIMEOUT_SECONDS: '3',
  CALMS_CLUSTER_COMMAND_TIMEOUT_SECONDS: '20',
  CALMS_STEPFUNCTIONS_RETRY_SECONDS: '0.2',
};
