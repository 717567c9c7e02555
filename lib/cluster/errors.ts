/**
 * Failures of the calibration cluster, as the state machine tells them apart (see lib/errors.ts for why each
 * `name` is a literal equal to the class name).
 */
import { TerminalError, TransientError } from '../errors';

/** No node answered in time: connection refused, reset or timed out, or a command did not finish in time. */
export class ClusterUnreachableError extends TransientError {
  override name = 'ClusterUnreachableError';
}

/** A node presented a host key that is not pinned for it (unknown host or changed key): possibly an impostor. */
export class HostKeyMismatchError extends TerminalError {
  override name = 'HostKeyMismatchError';
}

/** A node refused the cluster user's key. */
export class ClusterAuthenticationError extends TerminalError {
  override name = 'ClusterAuthenticationError';
}

/** A node speaks SSH in a way CalMS cannot use (no common algorithm, not an SSH server on that port). */
export class ClusterProtocolError extends TerminalError {
  override name = 'ClusterProtocolError';
}

/** A housekeeping command on a node failed (work directory not creatable, disk full, scheduler refused the job). */
export class ClusterCommandError extends TerminalError {
  override name = 'ClusterCommandError';
}

/** The calibration job ended without producing the calibrated MSs; its work directory is kept for investigation. */
export class ClusterJobFailedError extends TerminalError {
  override name = 'ClusterJobFailedError';
}

/** A value bound for a node's shell does not match the strict pattern of its kind; nothing was sent. */
export class UnsafeShellValueError extends TerminalError {
  override name = 'UnsafeShellValueError';
}

/** No CASA build is configured for the project's cycle (`CALMS_CLUSTER_CASA_BUILDS`). */
export class UnsupportedCycleError extends TerminalError {
  override name = 'UnsupportedCycleError';
}
