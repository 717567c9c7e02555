/**
 * ARC staff's requests as the integration tests send them: Stella Stranger asks for one MOUS of 2023.1.00456.S,
 * with `force`, so that a trigger another test left behind does not turn the request away.
 */
import { postRequest } from './clients';

export const TEST_USER = { userName: 'Stella Stranger', userEmail: 'stella.stranger@example.org' } as const;

/** One accepted MOUS of a `POST /requests` answer, with the ticket it was sent under. */
export interface AcceptedRequest {
  readonly mous: string;
  /** The execution name. */
  readonly requestId: string;
  readonly executionArn: string;
  readonly triggerName: string;
  readonly ticket: string;
}

export interface TestRequests {
  /** The body of the next ticket's request for `mous`, the overrides applied last. */
  body(mous: string, overrides?: Record<string, unknown>): Record<string, unknown> & { helpdeskTicket: string };
  /** Sends the next ticket's request and expects it accepted. */
  submit(mous: string, overrides?: Record<string, unknown>): Promise<AcceptedRequest>;
}

/**
 * Each test file numbers its tickets from a base of its own, so that no two files' executions share a name and a
 * file finds its own emails by their tickets. `arcContact` lets a file tell its emails apart by their recipient.
 */
export function testRequests(ticketsAfter: number, arcContact = 'arc.staff@example.org'): TestRequests {
  let ticket = ticketsAfter;
  const body = (mous: string, overrides: Record<string, unknown> = {}) => {
    ticket += 1;
    return {
      projectCode: '2023.1.00456.S',
      ...TEST_USER,
      helpdeskTicket: String(ticket),
      arcContact,
      mous: [mous],
      force: true,
      ...overrides,
    };
  };
  return {
    body,
    async submit(mous, overrides) {
      const sent = body(mous, overrides);
      const response = await postRequest(sent);
      expect(response.status).toBe(202);
      return { ...response.body.results[0], ticket: sent.helpdeskTicket };
    },
  };
}
