import { quote } from '../../../lib/cluster/shell';
import { attemptExecutionName } from '../../../lib/domain/redrive';
import {
  EXECUTION_NAME_MAX_LENGTH,
  MAX_CALIBRATOR_FIELDS,
  REQUEST_ID_MAX_LENGTH,
  REQUEST_ID_SUFFIX_LENGTH,
  ticketAndMousOf,
} from '../../../lib/domain/identifiers';
import { mousRequest, parseTicketRequest, type TicketRequest } from '../../../lib/domain/request';
import { EXECUTION_NAME, SEED_TIME, seedRequestBody } from '../fakes';

const SUFFIX = 'f'.repeat(REQUEST_ID_SUFFIX_LENGTH);

/** Every value of an accepted request that reaches the cluster's shell, quoted as the job script quotes it. */
function quoteForTheCluster(ticket: TicketRequest): void {
  for (const mous of ticket.mous) {
    const request = mousRequest(ticket, mous, SEED_TIME, SUFFIX, 'alma.example.org');
    quote(request.mous, 'mous');
    quote(request.projectCode, 'projectCode');
    quote(request.helpdeskTicket, 'helpdeskTicket');
    quote(request.requestId, 'requestId');
    for (const field of request.calibratorFields) quote(field, 'field');
    if (request.calibratorFields.length > 0) quote(request.calibratorFields.join(','), 'fieldList');
  }
}

describe('one set of identifier patterns', () => {
  it('lets through to the cluster every request intake accepts, across ticket lengths and uid hex lengths up to the bounds', () => {
    // Prepare
    const bodies = ['7', '16140', '9999999999'].flatMap((helpdeskTicket) =>
      Array.from({ length: 17 }, (_, first) =>
        Array.from({ length: 17 }, (_, second) =>
          seedRequestBody({ helpdeskTicket, mous: [`uid://A002/X${'d'.repeat(first + 1)}/X${'9'.repeat(second + 1)}`] }),
        ),
      ).flat(),
    );

    // Act
    const parsed = bodies.map((body) => parseTicketRequest(body));
    const accepted = parsed.flatMap((result) => (result.ok ? [result.value] : []));
    const refused = parsed.flatMap((result) => (result.ok ? [] : [result.problem.field]));

    // Assess: both outcomes happen, refusals name the MOUS, and nothing accepted is refused by the shell layer.
    expect(accepted.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set(['mous[0]']));
    expect(() => accepted.forEach(quoteForTheCluster)).not.toThrow();
  });

  it('lets through the longest request intake accepts: a 10-digit ticket, a DDT project and 64 fields of 64 characters', () => {
    // Prepare
    const calibratorFields = Array.from({ length: MAX_CALIBRATOR_FIELDS }, (_, index) => `J${String(index).padStart(63, '0')}`);
    const body = seedRequestBody({
      projectCode: '2019.A.00012.S',
      helpdeskTicket: '9999999999',
      mous: [`uid://A001/X${'f'.repeat(9)}/X${'e'.repeat(9)}`],
      calibratorFields,
    });

    // Act
    const parsed = parseTicketRequest(body);

    // Assess
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const request = mousRequest(parsed.value, parsed.value.mous[0]!, SEED_TIME, SUFFIX, 'alma.example.org');
    expect(request.requestId).toHaveLength(REQUEST_ID_MAX_LENGTH);
    expect(() => quoteForTheCluster(parsed.value)).not.toThrow();
  });

  it('keeps the ninth re-drive of the longest request id within the execution names Step Functions accepts', () => {
    // Prepare
    const requestId = `t9999999999-uid___A001_X${'f'.repeat(9)}_X${'e'.repeat(9)}-20190902T140027Z-${SUFFIX}`;

    // Act
    const ninth = attemptExecutionName(requestId, 9);

    // Assess
    expect(requestId).toHaveLength(REQUEST_ID_MAX_LENGTH);
    expect(ninth).toHaveLength(EXECUTION_NAME_MAX_LENGTH);
    expect(ninth).toMatch(EXECUTION_NAME);
  });

  it('reads the ticket and MOUS back from a request id, and nothing from text that is none', () => {
    // Prepare
    const requestId = 't16140-uid___A001_X1296_X675-20190902T140027Z-ab12cd34';

    // Act
    const parts = [
      requestId,
      `${requestId}-redrive-2`,
      't16140-uid___A001_X1296-20190902T140027Z-ab12',
      'x16140-uid___A001_X1296_X675-20190902T140027Z-ab',
    ].map(ticketAndMousOf);

    // Assess
    expect(parts).toEqual([
      { helpdeskTicket: '16140', mous: 'uid___A001_X1296_X675' },
      { helpdeskTicket: '16140', mous: 'uid___A001_X1296_X675' },
      undefined,
      undefined,
    ]);
  });
});
