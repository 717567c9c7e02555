/** An email as CalMS composes it; addresses are plain (`name@example.org`). */
export interface MailMessage {
  readonly to: readonly string[];
  readonly cc?: readonly string[];
  readonly bcc?: readonly string[];
  readonly replyTo?: string;
  readonly subject: string;
  readonly text: string;
  /** Set by CalMS so that replies can thread to it and a resend is recognisable: `<id@domain>`. */
  readonly messageId: string;
  readonly inReplyTo?: string;
  readonly references?: readonly string[];
}

/** The port. Implementations throw `MailUnavailableError` (retry) or `MailRejectedError` (give up). */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** The relay itself, as `calms doctor` tries it. Throws `MailUnavailableError` when it does not accept a session. */
export interface MailRelay {
  /** Connects as sending would (STARTTLS where required, the login where there is one) and sends nothing. */
  verify(): Promise<void>;
}
