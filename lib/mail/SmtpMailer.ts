import nodemailer, { type Transporter } from 'nodemailer';
import { MailRejectedError, MailUnavailableError } from '../errors';
import type { MailMessage, Mailer } from './Mailer';

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly from: string;
}

/** Sends through an SMTP relay with nodemailer; 5xx answers are permanent, everything else is retried. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(private readonly settings: SmtpSettings) {
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: false,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async send(message: MailMessage): Promise<void> {
    try {
      await this.transport.sendMail({
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
