/**
 * `npm run cluster:stop-jobs`: ends the calibration jobs of the emulated cluster that outlived the local cloud
 * (and any other process of it), for the state directory of `npm start` or the one CALMS_STATE_DIR names.
 */
import { localCloudConfig } from '../config';
import { stopEmulatedJobs } from './emulatedCluster';

const { stateDir } = localCloudConfig();
process.stdout.write(`Ended ${stopEmulatedJobs(stateDir)} process(es) of the emulated cluster in ${stateDir}\n`);
