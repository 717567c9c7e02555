/** The seed's examples as request bodies and per-MOUS requests, for tests of every layer. */
import { mousRequest, type MousRequest, type TicketRequest } from '../../../lib/domain/request';

/** `triggerCalMSCreation.sh 2017.1.00727.S "Judit Szulagyi" judits@phys.ethz.ch 16140 uid://A001/X1296/X675`, sent by evkampe. */
export function seedRequestBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    projectCode: '2017.1.00727.S',
    userName: 'Judit Szulagyi',
    userEmail: 'judits@phys.ethz.ch',
    helpdeskTicket: '16140',
    arcContact: 'evkampe@eso.org',
    mous: ['uid://A001/X1296/X675'],
    ...overrides,
  };
}

export const SEED_TICKET: TicketRequest = {
  projectCode: '2017.1.00727.S',
  userName: 'Judit Szulagyi',
  userEmail: 'judits@phys.ethz.ch',
  helpdeskTicket: '16140',
  arcContact: 'evkampe@eso.org',
  mous: ['uid___A001_X1296_X675'],
  calibratorFields: [],
  force: false,
};

/** The seed's trigger time, 2019-09-02T14:00:27 UTC. */
export const SEED_TIME = new Date('2019-09-02T14:00:27Z');

export const TEST_MAIL_DOMAIN = 'calms.test';

/** The seed's example trigger as one MOUS request (with its calibrator fields unless overridden). */
export function seedMousRequest(overrides: Partial<TicketRequest> = {}): MousRequest {
  const ticket: TicketRequest = { ...SEED_TICKET, calibratorFields: ['J0510+1800', 'J0321+1234'], ...overrides };
  return mousRequest(ticket, ticket.mous[0]!, SEED_TIME, 'ab12', TEST_MAIL_DOMAIN);
}
