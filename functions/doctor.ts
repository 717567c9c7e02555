import { makeDoctorHandler } from '../lib/handlers/operations';
import { doctorDependencies } from '../lib/runtime/dependencies';

export const handler = makeDoctorHandler(doctorDependencies());
