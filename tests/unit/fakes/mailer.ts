import type { MailMessage, Mailer } from '../../../lib/mail/Mailer';
import { Failures } from './failures';

/** A `Mailer` that keeps what it was given; a scripted failure means the relay did not take the message. */
export class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  readonly failures = new Failures<'send'>();

  async send(message: MailMessage): Promise<void> {
    this.failures.check('send');
    this.sent.push(message);
  }
}
