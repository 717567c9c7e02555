/**
 * What the API allows on a request, per action and state: the predicates cancel, keep, resend and re-drive
 * apply, and the console's reading of a status answer with them. Anything unknown allows nothing.
 */
import { allowedActions, NOTHING_ALLOWED } from '../../../lib/operations/allowed';
import { mayCancel } from '../../../lib/operations/cancel';
import { mayKeep, resendRefusal } from '../../../lib/operations/deliveries';
import { redriveRefusal } from '../../../lib/operations/redrive';

const delivery = (kept: boolean, expired = false) => ({
  link: 'https://calms.example.org/prod/downloads/x',
  stagedAt: '2026-11-24T12:00:00.000Z',
  expiresAt: '2026-12-22T12:00:00.000Z',
  kept,
  expired,
});

describe('mayCancel', () => {
  it.each(['RUNNING', 'FAILED', 'TIMED_OUT', 'ABORTED'])('cancels a request whose latest execution is %s', (status) => {
    expect(mayCancel(status)).toBe(true);
  });

  it.each([['SUCCEEDED'], ['PENDING_REDRIVE'], ['STARTING'], [''], [undefined]])('refuses one that is %s', (status) => {
    expect(mayCancel(status)).toBe(false);
  });
});

describe('redriveRefusal', () => {
  it.each(['FAILED', 'TIMED_OUT', 'ABORTED'])('re-drives a request that ended %s and was not cancelled', (status) => {
    expect(redriveRefusal(status, false)).toBeUndefined();
  });

  it.each([
    ['RUNNING', false, 'it is still running'],
    ['SUCCEEDED', false, 'it has ended well'],
    ['FAILED', true, 'it was cancelled; submit it again with calms request'],
    ['ABORTED', true, 'it was cancelled; submit it again with calms request'],
    ['PENDING_REDRIVE', false, 'Step Functions is re-driving it already'],
    ['STARTING', false, 'its status (STARTING) is not one CalMS knows'],
    [undefined, false, 'its status (none) is not one CalMS knows'],
  ])('refuses one %s (cancelled: %s): %s', (status, cancelled, why) => {
    expect(redriveRefusal(status, cancelled)).toBe(why);
  });
});

describe('mayKeep and resendRefusal', () => {
  it('keeps or releases a published delivery, expired or not, and nothing without one', () => {
    expect([mayKeep(delivery(false)), mayKeep(delivery(true)), mayKeep(delivery(false, true)), mayKeep(undefined)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('sends the download email again only when it was sent and the link still works', () => {
    expect(resendRefusal(true, delivery(false))).toBeUndefined();
    expect(resendRefusal(true, delivery(true))).toBeUndefined();
    expect(resendRefusal(false, delivery(false))).toBe('NOT_DELIVERED');
    expect(resendRefusal(true, undefined)).toBe('DELIVERY_REMOVED');
    expect(resendRefusal(true, delivery(false, true))).toBe('DELIVERY_EXPIRED');
  });
});

describe('allowedActions', () => {
  it('offers only cancel while a request runs', () => {
    expect(allowedActions({ status: 'RUNNING', state: 'WaitForCalibrationJob' })).toEqual({ ...NOTHING_ALLOWED, cancel: true });
  });

  it('offers keep and resend for a delivered request not kept, release once it is kept', () => {
    expect(allowedActions({ status: 'SUCCEEDED', delivery: delivery(false), downloadEmailSent: true })).toEqual({
      ...NOTHING_ALLOWED,
      keep: true,
      resend: true,
    });
    expect(allowedActions({ status: 'SUCCEEDED', delivery: delivery(true), downloadEmailSent: true })).toEqual({
      ...NOTHING_ALLOWED,
      release: true,
      resend: true,
    });
  });

  it('offers keep but not resend for an expired delivery, and neither resend while the email has not gone out', () => {
    expect(allowedActions({ status: 'SUCCEEDED', delivery: delivery(false, true), downloadEmailSent: true })).toEqual({
      ...NOTHING_ALLOWED,
      keep: true,
    });
    expect(allowedActions({ status: 'RUNNING', delivery: delivery(false), downloadEmailSent: false })).toEqual({
      ...NOTHING_ALLOWED,
      cancel: true,
      keep: true,
    });
  });

  it('offers cancel (to give it up) and re-drive for a failed request, cancel alone once it was cancelled', () => {
    expect(allowedActions({ status: 'FAILED', endedBy: 'reported failure' })).toEqual({ ...NOTHING_ALLOWED, cancel: true, redrive: true });
    expect(allowedActions({ status: 'TIMED_OUT', endedBy: 'timeout' })).toEqual({ ...NOTHING_ALLOWED, cancel: true, redrive: true });
    expect(allowedActions({ status: 'ABORTED', endedBy: 'stop' })).toEqual({ ...NOTHING_ALLOWED, cancel: true, redrive: true });
    expect(allowedActions({ status: 'ABORTED', endedBy: 'cancel' })).toEqual({ ...NOTHING_ALLOWED, cancel: true });
    expect(allowedActions({ status: 'FAILED', endedBy: 'cancel' })).toEqual({ ...NOTHING_ALLOWED, cancel: true });
  });

  it('offers nothing while Step Functions re-drives a request', () => {
    expect(allowedActions({ status: 'PENDING_REDRIVE' })).toEqual(NOTHING_ALLOWED);
  });

  it.each([
    ['no answer', undefined],
    ['an error answer', { error: { code: 'REQUEST_NOT_FOUND', message: 'There is no request' } }],
    ['API Gateway refusing the key', { message: 'Forbidden' }],
    ['an unknown status', { status: 'STARTING', delivery: delivery(false), downloadEmailSent: true }],
    ['a status that is no text', { status: 3 }],
    ['a list', [{ status: 'RUNNING' }]],
    ['a delivery without its kept flag', { status: 'SUCCEEDED', delivery: { expired: false }, downloadEmailSent: true }],
    ['a delivery that is no object', { status: 'FAILED', delivery: 'yes', endedBy: 'stop' }],
  ])('allows nothing on %s', (_, answer) => {
    expect(allowedActions(answer)).toEqual(NOTHING_ALLOWED);
  });
});
