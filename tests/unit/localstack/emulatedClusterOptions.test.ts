import { emulatedClusterOptions } from '../../../localstack/cluster/options';

const paths = { stateDir: '/tmp/state', archiveSnapshot: 'localstack/archive/snapshot.json' };

describe('emulatedClusterOptions', () => {
  it('uses the documented defaults', () => {
    // Act
    const options = emulatedClusterOptions(paths, {});

    // Assess
    expect(options).toEqual({
      basePort: 2222,
      nodeCount: 3,
      loads: [1.5, 0.2, 0.8],
      user: 'arcproc',
      ...paths,
      casa: { seconds: 5, bytes: 1048576, calibratorBytes: 131072, failMous: [], failExitCode: 1, hangMous: [] },
    });
  });

  it('reads the CALMS_SSH_* and CALMS_CASA_EMULATOR_* variables', () => {
    // Act
    const options = emulatedClusterOptions(paths, {
      CALMS_SSH_PORT: '3222',
      CALMS_SSH_NODE_COUNT: '2',
      CALMS_SSH_LOADS: '0.1, 4',
      CALMS_CLUSTER_USER: 'calmstest',
      CALMS_CASA_EMULATOR_SECONDS: '0.5',
      CALMS_CASA_EMULATOR_BYTES: '10',
      CALMS_CASA_EMULATOR_CALIBRATOR_BYTES: '1',
      CALMS_CASA_EMULATOR_FAIL_MOUS: 'uid___A001_X1_X2, uid://A001/X1/X3',
      CALMS_CASA_EMULATOR_FAIL_EXIT_CODE: '9',
      CALMS_CASA_EMULATOR_HANG_MOUS: 'uid___A001_X1_X4',
    });

    // Assess
    expect(options).toMatchObject({
      basePort: 3222,
      nodeCount: 2,
      loads: [0.1, 4],
      user: 'calmstest',
      casa: {
        seconds: 0.5,
        bytes: 10,
        calibratorBytes: 1,
        failMous: ['uid___A001_X1_X2', 'uid://A001/X1/X3'],
        failExitCode: 9,
        hangMous: ['uid___A001_X1_X4'],
      },
    });
  });

  it.each([
    ['CALMS_SSH_PORT', 'x'],
    ['CALMS_SSH_NODE_COUNT', '1.5'],
    ['CALMS_CASA_EMULATOR_BYTES', '-1'],
    ['CALMS_SSH_LOADS', '0.5,busy'],
  ])('refuses %s=%j naming it', (name, value) => {
    // Act
    const act = () => emulatedClusterOptions(paths, { [name]: value });

    // Assess
    expect(act).toThrow(name);
  });
});
