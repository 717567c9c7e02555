/**
 * SmtpMailer against real SMTP servers (smtp-server, the library MailDev is built on) on 127.0.0.1: off the
 * local cloud it sends only after STARTTLS, and it logs in with the credentials it reads once.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { MailRejectedError, MailUnavailableError } from '../../lib/errors';
import { SmtpMailer, type SmtpSettings } from '../../lib/mail/SmtpMailer';

const LOGIN = { username: 'AKIAEXAMPLESMTPUSER', password: 'smtp-password-from-the-secret' };

interface Relay {
  readonly port: number;
  /** The subject of every message the relay accepted. */
  readonly accepted: string[];
  /** Whether each session was upgraded to TLS before the message. */
  readonly secured: boolean[];
  close(): Promise<void>;
}

async function startRelay(options: SMTPServerOptions): Promise<Relay> {
  const accepted: string[] = [];
  const secured: boolean[] = [];
  const server = new SMTPServer({
    authOptional: true,
    ...options,
    onData(stream, session, callback) {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      stream.on('end', () => {
        accepted.push(/^Subject: (.*)$/m.exec(text)?.[1] ?? '');
        secured.push(session.secure);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, accepted, secured, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const message = (subject: string) => ({
  to: ['aog@alma.example'],
  subject,
  text: 'Sent by smtpMailer.test.ts.',
  messageId: `<${subject.replace(/\W/g, '')}@calms.test>`,
});
const mailer = (relay: Relay, settings: Partial<SmtpSettings>) =>
  new SmtpMailer({ host: '127.0.0.1', port: relay.port, from: 'calms@alma.example', requireTls: true, ...settings });

let relays: Relay[] = [];
afterEach(async () => {
  await Promise.all(relays.map((relay) => relay.close()));
  relays = [];
});
const relay = async (options: SMTPServerOptions) => {
  const started = await startRelay(options);
  relays.push(started);
  return started;
};

describe('STARTTLS', () => {
  test('required: a relay that does not offer STARTTLS gets nothing, and the failure is retried', async () => {
    // Prepare
    const plain = await relay({ hideSTARTTLS: true });

    // Act
    const sending = mailer(plain, { requireTls: true }).send(message('no tls'));

    // Assess
    await expect(sending).rejects.toThrow(MailUnavailableError);
    expect(plain.accepted).toEqual([]);
  });

  test('required: a relay whose certificate is not trusted gets nothing (the upgrade was tried and refused)', async () => {
    // Prepare: smtp-server offers STARTTLS with its own self-signed certificate.
    const untrusted = await relay({});

    // Act
    const sending = mailer(untrusted, { requireTls: true }).send(message('untrusted'));

    // Assess
    await expect(sending).rejects.toThrow(/certificate/i);
    expect(untrusted.accepted).toEqual([]);
  });

  test('not required (the local cloud): a relay without STARTTLS gets the message in clear text', async () => {
    // Prepare
    const plain = await relay({ hideSTARTTLS: true });

    // Act
    await mailer(plain, { requireTls: false }).send(message('local'));

    // Assess
    expect(plain.accepted).toEqual(['local']);
    expect(plain.secured).toEqual([false]);
  });
});

describe('login', () => {
  const loginRelay = () =>
    relay({
      hideSTARTTLS: true,
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === LOGIN.username && auth.password === LOGIN.password) callback(null, { user: auth.username });
        else callback(new Error('Invalid username or password'));
      },
    });

  test('logs in with the credentials it reads, once for all messages', async () => {
    // Prepare
    const secured = await loginRelay();
    let reads = 0;
    const sender = mailer(secured, {
      requireTls: false,
      credentials: async () => {
        reads += 1;
        return LOGIN;
      },
    });

    // Act
    await sender.send(message('first'));
    await sender.send(message('second'));

    // Assess
    expect(secured.accepted).toEqual(['first', 'second']);
    expect(reads).toBe(1);
  });

  test('without credentials, or with wrong ones, the relay takes nothing', async () => {
    // Prepare
    const secured = await loginRelay();

    // Act
    const anonymous = mailer(secured, { requireTls: false }).send(message('anonymous'));
    const wrong = mailer(secured, { requireTls: false, credentials: async () => ({ ...LOGIN, password: 'wrong' }) }).send(message('wrong'));

    // Assess
    await expect(anonymous).rejects.toThrow(MailRejectedError);
    await expect(wrong).rejects.toThrow(MailRejectedError);
    expect(secured.accepted).toEqual([]);
  });

  test('credentials that cannot be read are a relay not reached: retried, and read again next time', async () => {
    // Prepare
    const secured = await loginRelay();
    let reads = 0;
    const sender = mailer(secured, {
      requireTls: false,
      credentials: async () => {
        reads += 1;
        if (reads === 1) throw new Error('Secrets Manager did not answer');
        return LOGIN;
      },
    });

    // Act
    const first = sender.send(message('first try'));
    await expect(first).rejects.toThrow(MailUnavailableError);
    await sender.send(message('second try'));

    // Assess
    expect(secured.accepted).toEqual(['second try']);
    expect(reads).toBe(2);
  });
});

describe('verify (the smoke check): a session as sending opens it, and nothing sent', () => {
  test('passes on a relay that takes the session as configured, and sends nothing', async () => {
    // Prepare
    const plain = await relay({ hideSTARTTLS: true });

    // Act
    await mailer(plain, { requireTls: false }).verify();

    // Assess
    expect(plain.accepted).toEqual([]);
  });

  test('fails, as a relay not reached, where sending would: no STARTTLS when required, a wrong login, nobody listening', async () => {
    // Prepare
    const plain = await relay({ hideSTARTTLS: true });
    const secured = await relay({
      hideSTARTTLS: true,
      authOptional: false,
      allowInsecureAuth: true,
      onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
    });
    const gone = await startRelay({});
    await gone.close();

    // Act
    const outcomes = await Promise.allSettled([
      mailer(plain, { requireTls: true }).verify(),
      mailer(secured, { requireTls: false, credentials: async () => LOGIN }).verify(),
      mailer(gone, { requireTls: false }).verify(),
    ]);

    // Assess
    expect(outcomes.map((outcome) => outcome.status === 'rejected' && outcome.reason instanceof MailUnavailableError)).toEqual([true, true, true]);
    expect(outcomes.map((outcome) => outcome.status === 'rejected' && String(outcome.reason))).toEqual([
      expect.stringMatching(/did not accept a session: .*(STARTTLS|certificate)/),
      expect.stringMatching(/did not accept a session: .*Invalid/),
      expect.stringMatching(/did not accept a session: .*ECONNREFUSED/),
    ]);
  });
});
