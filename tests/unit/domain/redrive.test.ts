/** Where a re-drive resumes and what it carries over from the failed state's input. */
import {
  attemptExecutionName,
  attemptKind,
  attemptOf,
  failedStateOf,
  REDRIVABLE_STATES,
  redriveInput,
  RESUME_POINTS,
} from '../../../lib/domain/redrive';
import { seedMousRequest } from '../fakes';

const REQUEST = seedMousRequest();
const FAILURE = { Error: 'ClusterJobFailedError', Cause: 'CASA died' };
const CALIBRATION = { job: { node: 'arcp14', jobId: '7', workDir: '/w' }, pollSeconds: 300, deadline: '2026-11-26T00:00:00Z' };

describe('redriveInput', () => {
  it.each([
    ['EmailRequestToAog', 'EmailRequestToAog'],
    ['CheckEntitlement', 'CheckEntitlement'],
    ['ReplyNotEntitled', 'IsUserEntitled'],
    ['ReplyInvalidMousUid', 'IsUserEntitled'],
    ['ReplyMousNotDelivered', 'IsUserEntitled'],
    ['LookForStagedMeasurementSets', 'LookForStagedMeasurementSets'],
    ['AcquireStagingSlot', 'AcquireStagingSlot'],
    ['ChooseClusterNode', 'AcquireStagingSlot'],
    ['SubmitCalibrationJob', 'AcquireStagingSlot'],
    ['CheckCalibrationJob', 'AcquireStagingSlot'],
    ['StageMeasurementSets', 'AcquireStagingSlot'],
    ['CopyStagedMeasurementSets', 'CopyStagedMeasurementSets'],
    ['ReleaseStagingSlot', 'ReleaseStagingSlot'],
    ['PublishDelivery', 'PublishDelivery'],
    ['EmailDownloadLink', 'EmailDownloadLink'],
  ])('a failure in %s resumes at %s', (failedState, resumeAt) => {
    // Act
    const planned = redriveInput(failedState, { request: REQUEST }, REQUEST, 1, REQUEST.requestId);

    // Assess
    expect(planned?.marker).toEqual({ attempt: 1, resumeAt, failedState, previousExecution: REQUEST.requestId });
    expect(RESUME_POINTS).toContain(resumeAt);
  });

  it.each([
    ['IsUserEntitled', 'IsUserEntitled'],
    ['AreAllMeasurementSetsStaged', 'LookForStagedMeasurementSets'],
    ['IsStagingSlotAcquired', 'AcquireStagingSlot'],
    ['WaitForStagingSlot', 'AcquireStagingSlot'],
    ['AreMeasurementSetsCalibrated', 'AcquireStagingSlot'],
    ['WaitForCalibrationJob', 'AcquireStagingSlot'],
    ['IsCalibrationJobRunning', 'AcquireStagingSlot'],
    ['AreMeasurementSetsStaged', 'AcquireStagingSlot'],
    ['AreStagedMeasurementSetsCopied', 'CopyStagedMeasurementSets'],
    ['WasCalibratedOnCluster', 'EmailDownloadLink'],
    ['RemoveWorkDirectory', 'EmailDownloadLink'],
    ['IsRedriven', 'EmailRequestToAog'],
  ])('an execution stopped or timed out in %s resumes at %s', (state, resumeAt) => {
    // Act
    const planned = redriveInput(state, { request: REQUEST }, REQUEST, 1, REQUEST.requestId);

    // Assess
    expect(planned?.marker).toMatchObject({ resumeAt, failedState: state });
  });

  it('a re-drive stopped in its first Choices resumes where it was being sent', () => {
    // Prepare
    const input = {
      request: { ...REQUEST, redrive: 1 },
      redrive: { attempt: 1, resumeAt: 'PublishDelivery', failedState: 'PublishDelivery', previousExecution: REQUEST.requestId },
    };

    // Act
    const planned = ['IsRedriven', 'ResumeWhereItFailed'].map(
      (state) => redriveInput(state, input, REQUEST, 2, `${REQUEST.requestId}-redrive-1`)?.marker.resumeAt,
    );
    const unmarked = redriveInput('ResumeWhereItFailed', { request: REQUEST }, REQUEST, 1, REQUEST.requestId);

    // Assess
    expect(planned).toEqual(['PublishDelivery', 'PublishDelivery']);
    expect(unmarked).toBeUndefined();
  });

  it('knows every state it maps, and nothing else: the reports, the ends and unknown states are not re-driven', () => {
    // Act
    const unknown = [
      'ReportCalibrationFailure',
      'NotifyMaintainerOfFailure',
      'NotifyMaintainerBriefly',
      'CalibrationFailed',
      'Delivered',
      'NoSuchState',
    ].map((state) => redriveInput(state, { request: REQUEST }, REQUEST, 1, REQUEST.requestId));

    // Assess
    expect(unknown).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(REDRIVABLE_STATES).toHaveLength(30);
  });

  it('finds the state to resume: the one a report caught, or the one in flight', () => {
    // Prepare
    const newestFirst = (...states: string[]) => states.map((state) => ({ state }));

    // Act
    const caught = failedStateOf(newestFirst('CalibrationFailed', 'ReportCalibrationFailure', 'CheckCalibrationJob', 'WaitForCalibrationJob'));
    const fellBack = failedStateOf(newestFirst('RequestFailed', 'NotifyMaintainerBriefly', 'NotifyMaintainerOfFailure', 'PublishDelivery'));
    const inFlight = failedStateOf(newestFirst('WaitForCalibrationJob', 'CheckCalibrationJob'));
    const stoppedWhileReporting = failedStateOf(newestFirst('ReportCalibrationFailure', 'StageMeasurementSets'));

    // Assess
    expect([caught, fellBack, inFlight, stoppedWhileReporting].map((event) => event?.state)).toEqual([
      'CheckCalibrationJob',
      'PublishDelivery',
      'WaitForCalibrationJob',
      'StageMeasurementSets',
    ]);
    expect(failedStateOf(newestFirst('RequestFailed', 'NotifyMaintainerOfFailure'))).toBeUndefined();
  });

  it('a failed calibration is run again after a new slot: slot, node, job and progress are dropped, the staging plan kept', () => {
    // Prepare
    const staging = { reused: false, tarballs: [], complete: false };
    const failedInput = {
      request: REQUEST,
      staging,
      slot: { acquired: true },
      clusterNode: { node: 'arcp14' },
      calibration: CALIBRATION,
      calibrationProgress: { state: 'running' },
    };

    // Act
    const planned = redriveInput('CheckCalibrationJob', failedInput, REQUEST, 1, REQUEST.requestId);

    // Assess
    expect(Object.keys(planned!.input).sort()).toEqual(['redrive', 'request', 'staging']);
    expect(planned!.input.staging).toEqual(staging);
  });

  it('a failed staging keeps its calibration and completed tarballs; the aborted upload starts afresh', () => {
    // Prepare
    const done = {
      measurementSet: 'a.ms',
      key: 'deliveries/r/a.ms.tar',
      source: { kind: 'cluster' },
      uploadId: 'u1',
      result: { bytes: 9, sha256: 'e' },
    };
    const aborted = { measurementSet: 'b.ms', key: 'deliveries/r/b.ms.tar', source: { kind: 'cluster' }, uploadId: 'u2' };
    const notStarted = { measurementSet: 'c.ms', key: 'deliveries/r/c.ms.tar', source: { kind: 'cluster' } };
    const progress = { state: 'succeeded', measurementSets: ['a.ms', 'b.ms', 'c.ms'] };
    const failedInput = {
      request: REQUEST,
      slot: { acquired: true },
      calibration: CALIBRATION,
      calibrationProgress: progress,
      staging: { reused: false, complete: false, tarballs: [done, aborted, notStarted] },
      failure: FAILURE,
    };

    // Act
    const planned = redriveInput('StageMeasurementSets', failedInput, REQUEST, 2, `${REQUEST.requestId}-redrive-1`);

    // Assess
    expect(planned!.input).toEqual({
      request: { ...REQUEST, redrive: 2 },
      calibration: CALIBRATION,
      calibrationProgress: progress,
      staging: {
        reused: false,
        complete: false,
        tarballs: [done, { measurementSet: 'b.ms', key: 'deliveries/r/b.ms.tar', source: { kind: 'cluster' } }, notStarted],
      },
      redrive: {
        attempt: 2,
        resumeAt: 'AcquireStagingSlot',
        failedState: 'StageMeasurementSets',
        previousExecution: `${REQUEST.requestId}-redrive-1`,
      },
    });
  });

  it('drops the earlier failure and marker, so a re-drive of a re-drive carries only its own', () => {
    // Prepare
    const earlierMarker = { attempt: 1, resumeAt: 'PublishDelivery', failedState: 'PublishDelivery', previousExecution: REQUEST.requestId };

    // Act
    const planned = redriveInput(
      'PublishDelivery',
      { request: { ...REQUEST, redrive: 1 }, redrive: earlierMarker, failure: FAILURE },
      REQUEST,
      2,
      'x',
    );

    // Assess
    expect(planned!.input.failure).toBeUndefined();
    expect(planned!.input.redrive).toEqual({ attempt: 2, resumeAt: 'PublishDelivery', failedState: 'PublishDelivery', previousExecution: 'x' });
    expect((planned!.input.request as { redrive: number }).redrive).toBe(2);
  });
});

describe('execution names of attempts', () => {
  it('names the n-th re-drive after the request and reads it back', () => {
    // Act
    const names = [0, 1, 12].map((attempt) => attemptExecutionName(REQUEST.requestId, attempt));

    // Assess
    expect(names).toEqual([REQUEST.requestId, `${REQUEST.requestId}-redrive-1`, `${REQUEST.requestId}-redrive-12`]);
    expect(names.map(attemptOf)).toEqual([
      { requestId: REQUEST.requestId, attempt: 0 },
      { requestId: REQUEST.requestId, attempt: 1 },
      { requestId: REQUEST.requestId, attempt: 12 },
    ]);
    expect(attemptOf(`${REQUEST.requestId}-redrive-0`)).toEqual({ requestId: `${REQUEST.requestId}-redrive-0`, attempt: 0 });
  });

  it('gives each attempt its own failure email kind', () => {
    // Act & Assess
    expect([attemptKind('failure', REQUEST), attemptKind('failure', { redrive: 3 })]).toEqual(['failure', 'failure-redrive-3']);
  });
});
