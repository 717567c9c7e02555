import nodemailer, { type Transporter } from 'nodemailer';
import { MailRejectedError, MailUnavailableError } from '../errors';
import { secretFields } from '../aws/clients';
import type { MailMessage, Mailer, MailRelay } from './Mailer';

/** The relay's login (SES SMTP credentials, for example). */
export interface SmtpCredentials {
  readonly username: string;
  readonly password: string;
}

/** The login as its secret holds it: JSON `{"username": …, "password": …}`. */
export function parseSmtpCredentials(text: string, secretId: string): SmtpCredentials {
  return secretFields(text, secretId, ['username', 'password'], 'the SMTP login');
}

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly from: string;
  /** Send only after STARTTLS: a relay that does not offer it, or whose certificate is not trusted, gets nothing. */
  readonly requireTls: boolean;
  /**
   * Reads the login once, before the first message (on AWS from Secrets Manager); absent for a relay that takes
   * mail without one. A failed read is not kept, so the next message tries again.
   */
  readonly credentials?: () => Promise<SmtpCredentials>;
}

/** Sends through an SMTP relay with nodemailer; 5xx answers are permanent, everything else is retried. */
export class SmtpMailer implements Mailer, MailRelay {
  private transport?: Promise<Transporter>;

  constructor(private readonly settings: SmtpSettings) {}

  private connect(): Promise<Transporter> {
    this.transport ??= this.createTransport().catch((error: unknown) => {
      this.transport = undefined;
      throw error;
    });
    return this.transport;
  }

  private async createTransport(): Promise<Transporter> {
    const { host, port, requireTls, credentials } = this.settings;
    const login = credentials ? await credentials() : undefined;
    return nodemailer.createTransport({
      host,
      port,
      // Port 465 speaks TLS from the first byte; every other port upgrades with STARTTLS, required when requireTls.
      secure: port === 465,
      requireTLS: requireTls,
      ...(login ? { auth: { user: login.username, pass: login.password } } : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async verify(): Promise<void> {
    try {
      await (await this.connect()).verify();
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new MailUnavailableError(`the SMTP relay ${this.settings.host}:${this.settings.port} did not accept a session: ${detail}`, {
        cause: error,
      });
    }
  }

  async send(message: MailMessage): Promise<void> {
    try {
      // Inside: a login that could not be read is a relay not reached, and retried like one.
      const transport = await this.connect();
      await transport.sendMail({
        from: this.settings.from,
        to: [...message.to],
        cc: message.cc ? [...message.cc] : undefined,
        bcc: message.bcc ? [...message.bcc] : undefined,
        replyTo: message.replyTo,
        subject: message.subject,
        text: message.text,
        messageId: message.messageId,
        inReplyTo: message.inReplyTo,
        references: message.references ? [...message.references] : undefined,
      });
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      const detail = error instanceof Error ? error.message : String(error);
      if (code !== undefined && code >= 500) {
        throw new MailRejectedError(`the SMTP relay rejected "${message.subject}": ${detail}`, { cause: error });
      }
      throw new MailUnavailableError(`the SMTP relay ${this.settings.host}:${this.settings.port} did not take "${message.subject}": ${detail}`, {
        cause: error,
      });
    }
  }
}
