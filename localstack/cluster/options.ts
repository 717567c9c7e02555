/**
 * The emulated cluster's settings from the local cloud's environment (the CALMS_SSH_* and
 * CALMS_CASA_EMULATOR_* variables declared in lib/config.ts, with their defaults there).
 */
import { localEnvironment, VARIABLES, type Variable, type VariableName } from '../../lib/config';
import type { EmulatedClusterOptions } from './emulatedCluster';

export function emulatedClusterOptions(
  paths: { readonly stateDir: string; readonly archiveSnapshot: string },
  env: Readonly<Record<string, string | undefined>> = process.env,
): EmulatedClusterOptions {
  const local = localEnvironment(env);
  const text = (name: VariableName): string => local[name]?.trim() || ((VARIABLES[name] as Variable).default ?? '');
  const number = (name: VariableName, integer: boolean): number => {
    const value = Number(text(name));
    if (text(name) === '' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
      throw new Error(`${name} must be a ${integer ? 'whole ' : ''}number of at least 0, got "${text(name)}"`);
    }
    return value;
  };
  const list = (name: VariableName): string[] =>
    text(name)
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  const loads = list('CALMS_SSH_LOADS').map(Number);
  if (loads.some((load) => !Number.isFinite(load) || load < 0)) {
    throw new Error(`CALMS_SSH_LOADS must be numbers of at least 0, comma-separated, got "${text('CALMS_SSH_LOADS')}"`);
  }
  return {
    basePort: number('CALMS_SSH_PORT', true),
    nodeCount: number('CALMS_SSH_NODE_COUNT', true),
    loads,
    user: text('CALMS_CLUSTER_USER'),
    stateDir: paths.stateDir,
    archiveSnapshot: paths.archiveSnapshot,
    casa: {
      seconds: number('CALMS_CASA_EMULATOR_SECONDS', false),
      bytes: number('CALMS_CASA_EMULATOR_BYTES', true),
      calibratorBytes: number('CALMS_CASA_EMULATOR_CALIBRATOR_BYTES', true),
      failMous: list('CALMS_CASA_EMULATOR_FAIL_MOUS'),
      failExitCode: number('CALMS_CASA_EMULATOR_FAIL_EXIT_CODE', true),
      hangMous: list('CALMS_CASA_EMULATOR_HANG_MOUS'),
    },
  };
}
