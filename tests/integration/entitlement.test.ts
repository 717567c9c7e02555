/**
 * One execution per entitlement outcome, from the request through to AOG's reply in MailDev and the trigger
 * gone from S3; and a permanent archive error, which must not produce any outcome reply.
 */
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { mailsOf, postRequest, service, sqliteArchivePath, statesEntered, triggerExists, waitForExecution } from './support/clients';

const request = (ticket: string, mous: string, userEmail: string, projectCode = '2022.1.00999.S') => ({
  projectCode,
  userName: 'Test User',
  userEmail,
  helpdeskTicket: ticket,
  arcContact: 'arc.staff@example.org',
  mous: [mous],
  // Several cases share a MOUS; each must run whatever an earlier case left active.
  force: true,
});

async function submitAndFinish(body: ReturnType<typeof request>) {
  const response = await postRequest(body);
  expect(response.status).toBe(202);
  const accepted = response.body.results[0];
  const execution = await waitForExecution(accepted.executionArn);
  return { accepted, execution, mails: await mailsOf(accepted.requestId) };
}

describe('entitlement on the processing day', () => {
  test.each([
    ['NOT ENTITLED', 'ReplyNotEntitled', 'NotEntitled', request('72001', 'uid___A001_X2f1e_X101', 'stella.stranger@example.org')],
    ['INVALID MOUS UID', 'ReplyInvalidMousUid', 'InvalidMousUid', request('72002', 'uid___A001_X2f1e_X101', 'nobody@example.org')],
    ['MOUS NOT DELIVERED', 'ReplyMousNotDelivered', 'MousNotDelivered', request('72003', 'uid___A001_X2f1e_X103', 'paula.principal@example.org')],
  ])('%s: AOG replies above the quoted request, the trigger goes, the execution succeeds in %s', async (word, replyState, endState, body) => {
    // Act
    const { accepted, execution, mails } = await submitAndFinish(body);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(statesEntered(execution.events)).toEqual(['IsRedriven', 'EmailRequestToAog', 'CheckEntitlement', 'IsUserEntitled', replyState, endState]);
    const requestMail = mails.find((mail) => !mail.subject.startsWith('Re: '))!;
    const reply = mails.find((mail) => mail.subject.startsWith('Re: '))!;
    expect(reply.subject).toBe(`Re: ${requestMail.subject}`);
    expect(reply.headers['in-reply-to']).toBe(requestMail.headers['message-id']);
    expect(reply.headers.references).toBe(requestMail.headers['message-id']);
    expect(reply.text.split('\n')[0]).toBe(word);
    const quoted = requestMail.text
      .trimEnd()
      .split('\n')
      .map((line) => (line ? `> ${line}` : '>'))
      .join('\n');
    expect(reply.text).toContain(quoted);
    expect(reply.to.map((to) => to.address)).toEqual([service().mail.aog]);
    expect(reply.cc!.map((cc) => cc.address).sort()).toEqual(['arc.staff@example.org', service().mail.maintainer].sort());
    expect(await triggerExists(accepted.triggerName)).toBe(false);
    const helpdeskText = 'You presently do not have access permission for the requested data.\nPlease wait until the data becomes public.';
    expect(reply.text.includes(helpdeskText)).toBe(word === 'NOT ENTITLED');
  });

  test('entitled as PI with the email in another letter case: no reply, the request goes on', async () => {
    const { accepted, execution, mails } = await submitAndFinish(request('72004', 'uid___A001_X2f1e_X101', 'PAULA.principal@example.org'));
    expect(statesEntered(execution.events).slice(0, 4)).toEqual(['IsRedriven', 'EmailRequestToAog', 'CheckEntitlement', 'IsUserEntitled']);
    expect(statesEntered(execution.events)).not.toContain('ReplyNotEntitled');
    expect(mails.filter((mail) => mail.subject.startsWith('Re: ') && /^(NOT ENTITLED|INVALID MOUS UID|MOUS NOT DELIVERED)/.test(mail.text))).toEqual(
      [],
    );
    expect(accepted.outcome).toBe('accepted');
  });

  test('a permanent archive error fails the execution with its cause, tells the maintainer, sends no outcome', async () => {
    // Prepare: a second account with the same address makes the user lookup ambiguous, which the archive
    // adapter reports as a permanent error; intake does not look users up, so the request is accepted.
    const db = new DatabaseSync(path.resolve(sqliteArchivePath()));
    db.exec('DROP INDEX users_email');
    db.prepare("INSERT INTO users (id, name, email) VALUES ('twin', 'Twin', 'Dario.Delegate@example.org')").run();
    try {
      // Act
      const { accepted, execution, mails } = await submitAndFinish(request('72005', 'uid___A001_X2f1e_X101', 'dario.delegate@example.org'));

      // Assess
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('ArchiveError');
      expect(execution.cause).toMatch(/dario|user|email/i);
      expect(statesEntered(execution.events)).toEqual([
        'IsRedriven',
        'EmailRequestToAog',
        'CheckEntitlement',
        'NotifyMaintainerOfFailure',
        'RequestFailed',
      ]);
      const failure = mails.find((mail) => mail.subject.startsWith('FAILED: '))!;
      expect(failure.to.map((to) => to.address)).toEqual([service().mail.maintainer]);
      expect(failure.text).toContain('ArchiveError');
      expect(mails.some((mail) => /^(NOT ENTITLED|INVALID MOUS UID|MOUS NOT DELIVERED)/.test(mail.text))).toBe(false);
      expect(await triggerExists(accepted.triggerName)).toBe(true);
    } finally {
      db.prepare("DELETE FROM users WHERE id = 'twin'").run();
      db.exec('CREATE UNIQUE INDEX users_email ON users (lower(email))');
      db.close();
    }
  });
});
