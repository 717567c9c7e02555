/**
 * Exactly-once email under storage faults: sendOnce over the S3 ledger, with S3 mocked so that its writes can be
 * made to fail (the local S3 servers cannot be), and the relay a recording fake. Each `attempt` is one run of a
 * step as Step Functions retries it: a failed attempt throws, and the next one starts afresh.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { MailUnavailableError, StorageUnavailableError } from '../../../lib/errors';
import type { MailMessage } from '../../../lib/mail/Mailer';
import { sendOnce } from '../../../lib/mail/sendOnce';
import { S3SentMailLedger } from '../../../lib/storage/S3SentMailLedger';
import { RecordingLogger } from '../fakes/logger';
import { RecordingMailer } from '../fakes/mailer';

const BUCKET = 'calms-test';
const REQUEST = 't16140-uid___A001_X1296_X675-20261125T100000Z-ab12';
const KEY = `requests/${REQUEST}/sent/delivered`;
const MESSAGE: MailMessage = {
  to: ['judits@phys.ethz.ch'],
  subject: 'ALMA data ready',
  text: 'the link',
  messageId: `<delivered.${REQUEST}@alma.local>`,
};
/** Step Functions' attempts of a step with the replies' Retry (MaxAttempts 6): seven in all. */
const ATTEMPTS = 7;

const awsError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const notFound = () => awsError('NotFound', 404);

describe('sendOnce over the S3 ledger', () => {
  const s3 = mockClient(S3Client);
  /** The bucket as the mock keeps it; PutObject honours If-None-Match unless `failWrites` says the write fails. */
  let objects: Map<string, string>;
  let failWrites: (input: { IfNoneMatch?: string }) => boolean;

  beforeEach(() => {
    s3.reset();
    objects = new Map();
    failWrites = () => false;
    s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string; IfNoneMatch?: string }) => {
      if (failWrites(input)) throw awsError('InternalError', 500);
      if (input.IfNoneMatch === '*' && objects.has(input.Key)) throw awsError('PreconditionFailed', 412);
      objects.set(input.Key, input.Body);
      return { ETag: '"e"' };
    });
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const text = objects.get(input.Key);
      if (text === undefined) throw awsError('NoSuchKey', 404);
      return { Body: { transformToString: async () => text } };
    });
    s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
      if (!objects.has(input.Key)) throw notFound();
      return {};
    });
    s3.on(DeleteObjectCommand).callsFake((input: { Key: string }) => {
      objects.delete(input.Key);
      return {};
    });
  });

  const setup = () => {
    const mailer = new RecordingMailer();
    const log = new RecordingLogger();
    const deps = { mailer, ledger: new S3SentMailLedger(new S3Client({ region: 'us-east-1' }), BUCKET), log };
    const attempt = () => sendOnce(deps, REQUEST, 'delivered', MESSAGE);
    return { mailer, log, attempt };
  };

  /** Runs the attempts one after the other, as retries do, and returns how each ended. */
  async function retried(attempt: () => Promise<string>): Promise<string[]> {
    const outcomes: string[] = [];
    for (let index = 0; index < ATTEMPTS; index += 1) outcomes.push(await attempt().catch((error: Error) => error.name));
    return outcomes;
  }

  it('sends nothing while every ledger write fails, so no retry can send again', async () => {
    // Prepare
    const { mailer, attempt } = setup();
    failWrites = () => true;

    // Act
    const outcomes = await retried(attempt);

    // Assess: the fault happened on every attempt, and at most one email (here none) went out.
    expect(outcomes).toEqual(Array(ATTEMPTS).fill('StorageUnavailableError'));
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(ATTEMPTS);
    expect(mailer.sent.length).toBeLessThanOrEqual(1);
    expect(mailer.sent).toEqual([]);
  });

  it('sends exactly once when the claim is written but the confirmation always fails', async () => {
    // Prepare
    const { mailer, log, attempt } = setup();
    failWrites = (input) => input.IfNoneMatch === undefined;

    // Act
    const outcomes = await retried(attempt);

    // Assess
    expect(outcomes).toEqual(['sent', ...Array(ATTEMPTS - 1).fill('already sent')]);
    expect(mailer.sent).toEqual([MESSAGE]);
    expect(log.lines.filter((line) => line.message === 'email sent, but its record could not be confirmed')).toHaveLength(1);
    expect(JSON.parse(objects.get(KEY)!)).toEqual({ state: 'sending', messageId: MESSAGE.messageId });
  });

  it('records the intent before the relay is called, and confirms after', async () => {
    // Prepare
    const { mailer, attempt } = setup();
    let recordWhenSent: string | undefined;
    const send = mailer.send.bind(mailer);
    mailer.send = async (message) => {
      recordWhenSent = objects.get(KEY);
      await send(message);
    };

    // Act
    const outcome = await attempt();

    // Assess
    expect(outcome).toBe('sent');
    expect(JSON.parse(recordWhenSent!)).toEqual({ state: 'sending', messageId: MESSAGE.messageId });
    expect(JSON.parse(objects.get(KEY)!)).toEqual({ state: 'sent', messageId: MESSAGE.messageId });
  });

  it('withdraws the claim when the relay does not take the email, so the retry sends it once', async () => {
    // Prepare
    const { mailer, attempt } = setup();
    mailer.failures.failNext('send', new MailUnavailableError('421 try again later'));

    // Act
    const outcomes = await retried(attempt);

    // Assess
    expect(outcomes).toEqual(['MailUnavailableError', 'sent', ...Array(ATTEMPTS - 2).fill('already sent')]);
    expect(mailer.sent).toEqual([MESSAGE]);
  });

  it('errs towards not sending twice: a claim neither confirmed nor withdrawn leaves the email in doubt, logged as such', async () => {
    // Prepare: the relay fails, and so does every write after the claim (the withdrawal included).
    const { mailer, log, attempt } = setup();
    mailer.failures.failNext('send', new MailUnavailableError('421 try again later'));
    s3.on(DeleteObjectCommand).rejects(awsError('InternalError', 500));

    // Act
    const outcomes = await retried(attempt);

    // Assess
    expect(outcomes).toEqual(['MailUnavailableError', ...Array(ATTEMPTS - 1).fill('already sent')]);
    expect(mailer.sent).toEqual([]);
    expect(log.lines.filter((line) => line.level === 'error' && line.message.startsWith('email in doubt'))).toHaveLength(ATTEMPTS);
  });

  it('sends once when two attempts race', async () => {
    // Prepare
    const { mailer, attempt } = setup();

    // Act
    const outcomes = await Promise.all([attempt(), attempt()]);

    // Assess
    expect(outcomes.sort()).toEqual(['already sent', 'sent']);
    expect(mailer.sent).toHaveLength(1);
  });

  it('reads a record of the Message-ID alone, as earlier versions wrote it, as sent', async () => {
    // Prepare
    const { mailer, log, attempt } = setup();
    objects.set(KEY, MESSAGE.messageId);

    // Act
    const outcome = await attempt();

    // Assess
    expect(outcome).toBe('already sent');
    expect(mailer.sent).toEqual([]);
    expect(log.lines.some((line) => line.level === 'error')).toBe(false);
  });

  it('reports a ledger that cannot be read as storage unavailable', async () => {
    // Prepare
    const ledger = new S3SentMailLedger(new S3Client({ region: 'us-east-1' }), BUCKET);
    s3.on(HeadObjectCommand).rejects(awsError('InternalError', 500));

    // Act
    const asking = ledger.wasSent(REQUEST, 'delivered');

    // Assess
    await expect(asking).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
