/**
 * A delivery: the calibrated MSs of one MOUS request as tarballs in the data bucket, the page and README
 * that describe them, and the email that tells the user (the second half of the seed's stagecalms and
 * AOG's last email). Pure: names, texts and the rules of re-use.
 */
import { createHash } from 'node:crypto';
import type { ExecBlock, MousRecord } from '../archive/Archive';
import { Qa0Status } from '../archive/Archive';
import type { MailMessage } from '../mail/Mailer';
import type { MailAddresses } from './messages';
import { requestSubject, threadedToRequest } from './messages';
import type { MousRequest } from './request';

export const MEASUREMENT_SET_SUFFIX = '.ms.split.cal';
export const DELIVERY_PREFIX = 'deliveries/';
export const README_NAME = 'README.txt';
/** The checksum file beside the tarballs, for `sha256sum -c`; served from the manifest, not stored. */
export const SHA256SUMS_NAME = 'SHA256SUMS';

/** `uid___A002_Xd33a12_X15be.ms.split.cal` → `uid___A002_Xd33a12_X15be.ms.split.cal.tar` */
export function tarballName(measurementSet: string): string {
  return `${measurementSet}.tar`;
}

/** The execution block a tarball or MS directory holds: its name up to `.ms.split.cal`. */
export function executionBlockOf(name: string): string {
  const end = name.indexOf(MEASUREMENT_SET_SUFFIX);
  return end < 0 ? name : name.slice(0, end);
}

export function deliveryPrefix(requestId: string): string {
  return `${DELIVERY_PREFIX}${requestId}/`;
}

export function tarballKey(requestId: string, measurementSet: string): string {
  return `${deliveryPrefix(requestId)}${tarballName(measurementSet)}`;
}

/**
 * The MSs a calibration of this MOUS produces: one per QA0 Pass execution block, and with a calibrator-field
 * selection only those blocks that observed one of the fields (the restore script keeps nothing else).
 * In archive order, which is observing order.
 */
export function expectedMeasurementSets(mous: MousRecord, calibratorFields: readonly string[]): string[] {
  const observedSelection = (block: ExecBlock) =>
    calibratorFields.length === 0 || block.fields.some((field) => calibratorFields.includes(field.name));
  return mous.execBlocks
    .filter((block) => block.qa0 === Qa0Status.Pass && observedSelection(block))
    .map((block) => `${block.uid}${MEASUREMENT_SET_SUFFIX}`);
}

/**
 * Names a calibrator-field selection for the re-use index: `all` for the whole MOUS, otherwise a digest of the
 * sorted field names (a tarball with fewer fields holds different data, and a key must stay short).
 */
export function fieldSelectionKey(calibratorFields: readonly string[]): string {
  if (calibratorFields.length === 0) return 'all';
  const sorted = [...new Set(calibratorFields)].sort();
  return `fields-${createHash('sha256').update(sorted.join(',')).digest('hex').slice(0, 32)}`;
}

/** One tarball of a delivery, as the manifest records it. */
export interface TarballRecord {
  readonly name: string;
  readonly bytes: number;
  /** SHA-256 of the whole tarball, hex; the README lists it for `sha256sum -c`. */
  readonly sha256: string;
  /** Where it came from: `cluster`, or the key of the earlier delivery's tarball it was copied from. */
  readonly source: string;
}

/** What a delivery holds; stored beside its tarballs and read by the download page. */
export interface DeliveryManifest {
  readonly requestId: string;
  readonly mous: string;
  readonly projectCode: string;
  readonly helpdeskTicket: string;
  readonly calibratorFields: readonly string[];
  /** ISO 8601, UTC: when the delivery was published; its expiry clock starts then. */
  readonly stagedAt: string;
  /** ISO 8601, UTC: stagedAt plus the retention, unless the delivery is kept. */
  readonly expiresAt: string;
  readonly retentionDays: number;
  /** The download link's token: at least 128 random bits, hex. */
  readonly token: string;
  readonly tarballs: readonly TarballRecord[];
}

const DAY_MS = 86_400_000;

export function expiryDate(stagedAt: Date, retentionDays: number): Date {
  return new Date(stagedAt.getTime() + retentionDays * DAY_MS);
}

/** What the user is told of the data's life: whole days left until the expiry (a part day counts), or kept. */
export type DeliveryLifetime = { readonly kept: true } | { readonly daysLeft: number };

/**
 * The life left to a delivery at `now`. Right after staging that is the retention (the seed's "28 days"); an
 * email sent again later says what is left, so that nobody counts on days the lifecycle rule will not give.
 */
export function lifetimeOf(delivery: { readonly expiresAt: string; readonly kept?: boolean }, now: Date): DeliveryLifetime {
  if (delivery.kept) return { kept: true };
  return { daysLeft: Math.max(1, Math.ceil((Date.parse(delivery.expiresAt) - now.getTime()) / DAY_MS)) };
}

function lifetimeSentence(lifetime: DeliveryLifetime): string {
  if ('kept' in lifetime) return 'It will be kept until further notice.';
  return `It will be deleted ${lifetime.daysLeft} ${lifetime.daysLeft === 1 ? 'day' : 'days'} from now.`;
}

export function downloadLink(baseUrl: string, token: string): string {
  return `${baseUrl}/downloads/${token}`;
}

/**
 * What logs and the execution history say instead of a download token, which opens the data to anyone who has
 * it: the first 12 hex digits of its SHA-256, enough to tell deliveries apart and to match a token an
 * operator holds (`calms status`), useless for downloading.
 */
export function tokenFingerprint(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}

/** The download link as logs show it: the token replaced by its fingerprint. */
export function loggedDownloadLink(baseUrl: string, token: string): string {
  return downloadLink(baseUrl, `<token ${tokenFingerprint(token)}>`);
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The tarballs' checksums as `sha256sum` writes them, one line each: the SHA256SUMS file and the README's list. */
export function sha256Sums(manifest: Pick<DeliveryManifest, 'tarballs'>): string {
  return manifest.tarballs.map((tarball) => `${tarball.sha256}  ${tarball.name}\n`).join('');
}

/** `2027-01-03T00:02:41.512Z` → `2027-01-03 00:02 UTC`, as the download page shows a time. */
export function utcMinute(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The short README of a delivery (the EU ARC service includes one), shipped as README.txt beside the tarballs. */
export function deliveryReadme(manifest: DeliveryManifest): string {
  const fields = manifest.calibratorFields.join(',');
  return [
    `Calibrated measurement sets of MOUS ${manifest.mous}`,
    `Project ${manifest.projectCode}, helpdesk ticket ${manifest.helpdeskTicket}`,
    ...(fields === '' ? [] : [`Only data for field ${fields} was kept.`]),
    '',
    `Staged ${manifest.stagedAt}; it will be deleted after ${manifest.expiresAt} (${manifest.retentionDays} days).`,
    '',
    'Each tarball holds one calibrated measurement set (<execution block>.ms.split.cal), ready for CASA.',
    'Unpack with:   tar xf <name>.ms.split.cal.tar',
    `Check with:    sha256sum -c ${SHA256SUMS_NAME}   (the lines below, saved as ${SHA256SUMS_NAME})`,
    `${SHA256SUMS_NAME}:    offered for download beside the tarballs`,
    '',
    sha256Sums(manifest),
    'Sizes:',
    ...manifest.tarballs.map((tarball) => `${tarball.name}  ${tarball.bytes} bytes (${formatBytes(tarball.bytes)})`),
    '',
  ].join('\n');
}

/** AOG's email to the user after stagecalms completed, word for word from the seed. */
export function downloadEmail(
  request: MousRequest,
  link: string,
  lifetime: DeliveryLifetime,
  addresses: MailAddresses & { readonly noReply: string },
  messageId: string,
): MailMessage {
  return {
    to: [request.userEmail],
    bcc: [request.arcContact, addresses.maintainer, addresses.aog],
    replyTo: addresses.noReply,
    subject: `Re: ${requestSubject(request.mous)}, helpdesk ticket ${request.helpdeskTicket}`,
    text: [
      'Your calibrated data is ready for download from',
      link,
      '',
      lifetimeSentence(lifetime),
      '',
      'Kind regards,',
      '',
      'The ESO ALMA Team',
      '',
    ].join('\n'),
    messageId,
    ...threadedToRequest(request),
  };
}

/** stagecalms's messages while it looks for MSs staged by earlier requests, verbatim. */
export const reuseMessages = {
  checking: 'Checking for pre-existing MSs for the following EBs ...',
  found: (location: string) => `Found pre-existing ${location} .\n   Will try to use this instead of recreating it (server-side copy) ...`,
  notFound: (executionBlock: string) => `MS for ${executionBlock} was not found among the already staged MSs. Will not search further ...`,
  regenerate: 'None or not all of the needed MSs found: Will regenerate all the MSs ...',
} as const;

/** stagecalms's closing lines, with the delivery link in place of the web directory. */
export function stagingCompletedText(request: MousRequest, link: string, stagedAt: Date, retentionDays: number): string {
  return [
    `Staging of calibrated MS(s) for ${request.projectCode} ${request.mous} helpdesk ticket #${request.helpdeskTicket} completed`,
    `at ${link}`,
    `Data will be deleted ${retentionDays} days from ${stagedAt.toUTCString()} unless it is kept.`,
  ].join('\n');
}
