/**
 * The stable download link of the user's email (`GET /downloads/{token}`). A presigned URL lives at most
 * 7 days (less when signed with a Lambda role's credentials), so the email carries this link instead: each
 * visit checks the delivery is still there and signs a fresh URL for the file asked for.
 */
import { createHash } from 'node:crypto';
import { type DeliveryManifest, deliveryPrefix, deliveryReadme, formatBytes, README_NAME } from '../domain/delivery';
import type { Logger } from '../log';
import type { DeliveryStore } from '../storage/DeliveryStore';

export interface DownloadDeps {
  readonly store: DeliveryStore;
  readonly log: Logger;
  readonly now: () => Date;
  /** Lifetime of each presigned URL handed out. */
  readonly linkSeconds: number;
}

export type DownloadResponse =
  | { readonly kind: 'page'; readonly status: 200; readonly html: string }
  | { readonly kind: 'redirect'; readonly status: 302; readonly location: string }
  | { readonly kind: 'message'; readonly status: 404 | 410 | 503; readonly title: string; readonly message: string };

/** 256 random bits, hex: what CalMS issues. Anything else is not looked up. */
export const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

const UNKNOWN: DownloadResponse = {
  kind: 'message',
  status: 404,
  title: 'Unknown download link',
  message: 'This download link is not known. Please check that the whole link from the email was used.',
};

function gone(message: string): DownloadResponse {
  return { kind: 'message', status: 410, title: 'Calibrated data no longer available', message };
}

const ASK_AGAIN = 'Please contact the ALMA Helpdesk if you still need the data; it can be staged again.';

/** What the user sees when the data bucket does not answer: the link itself is fine. */
export const UNAVAILABLE = {
  kind: 'message',
  status: 503,
  title: 'Download temporarily unavailable',
  message: 'The calibrated data cannot be reached at the moment. Please try the same link again in a few minutes.',
} as const satisfies DownloadResponse;

/**
 * The page of a delivery (`file` undefined) or a redirect to one of its files. A delivery past its expiry
 * date answers 410 even before the lifecycle rule (which runs about once a day) has removed it, unless kept.
 */
export async function download(deps: DownloadDeps, token: string, fileSegment?: string): Promise<DownloadResponse> {
  if (!TOKEN_PATTERN.test(token)) return UNKNOWN;
  const lookup = await deps.store.lookupToken(token);
  if (lookup.state === 'unknown') return UNKNOWN;
  if (lookup.state === 'removed') return gone(`The calibrated data of this link has been deleted. ${ASK_AGAIN}`);
  const { manifest, kept, complete } = lookup;
  if (!kept && deps.now().getTime() >= Date.parse(manifest.expiresAt)) {
    return gone(`The calibrated data of MOUS ${manifest.mous} expired on ${manifest.expiresAt} and has been deleted. ${ASK_AGAIN}`);
  }
  if (!complete) return gone(`The calibrated data of MOUS ${manifest.mous} has been removed. ${ASK_AGAIN}`);
  if (fileSegment === undefined) return { kind: 'page', status: 200, html: deliveryPage(manifest, kept) };
  const file = decodedSegment(fileSegment);
  const names = [README_NAME, ...manifest.tarballs.map((tarball) => tarball.name)];
  if (file === undefined || !names.includes(file)) {
    return { kind: 'message', status: 404, title: 'Unknown file', message: `This delivery has no file ${file ?? fileSegment}.` };
  }
  const location = await deps.store.presignDownload(`${deliveryPrefix(manifest.requestId)}${file}`, deps.linkSeconds, file);
  return { kind: 'redirect', status: 302, location };
}

/** A path segment as sent, percent-escapes decoded; undefined for a malformed escape (`%E0%A4%A`), which names no file. */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The one stylesheet of every download page, inline: the Content-Security-Policy allows exactly this text by its hash. */
const PAGE_STYLE =
  'body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.3em 1em;border-bottom:1px solid #ccc;text-align:left}.size{text-align:right}';

/**
 * Headers of every download response. The pages need nothing but their own inline stylesheet: no script, image,
 * frame, form or base URL, and they may not be framed. The token is in the URL, so no page sends it onwards
 * as a referrer.
 */
export const DOWNLOAD_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(PAGE_STYLE).digest('base64')}'`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The page for a link that leads nowhere (any more). */
export function messagePage(title: string, message: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body><h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p></body></html>
`;
}

/** The page the email links to: what the delivery is and its files with sizes, each a link. */
export function deliveryPage(manifest: DeliveryManifest, kept: boolean): string {
  const readmeBytes = Buffer.byteLength(deliveryReadme(manifest), 'utf8');
  const files = [
    { name: README_NAME, bytes: readmeBytes, note: 'what this delivery is, and the SHA-256 of each tarball' },
    ...manifest.tarballs.map((tarball) => ({ name: tarball.name, bytes: tarball.bytes, note: `SHA-256 ${tarball.sha256}` })),
  ];
  const rows = files
    .map(
      (file) =>
        `<tr><td><a href="${escapeHtml(manifest.token)}/${escapeHtml(file.name)}">${escapeHtml(file.name)}</a></td>` +
        `<td class="size" title="${file.bytes} bytes">${escapeHtml(formatBytes(file.bytes))}</td><td>${escapeHtml(file.note)}</td></tr>`,
    )
    .join('\n');
  const fields = manifest.calibratorFields.join(',');
  const expiry = kept
    ? 'This delivery is kept beyond its usual expiry.'
    : `It will be deleted on ${escapeHtml(manifest.expiresAt.slice(0, 10))} (${manifest.retentionDays} days after staging).`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Calibrated data for MOUS ${escapeHtml(manifest.mous)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1>Calibrated data for MOUS ${escapeHtml(manifest.mous)}</h1>
<p>Project ${escapeHtml(manifest.projectCode)}, helpdesk ticket ${escapeHtml(manifest.helpdeskTicket)}${
    fields ? `; only data for field ${escapeHtml(fields)}` : ''
  }. Staged ${escapeHtml(manifest.stagedAt)}. ${expiry}</p>
<table>
<thead><tr><th>File</th><th>Size</th><th></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p>Each tarball holds one calibrated measurement set; unpack it with <code>tar xf &lt;name&gt;</code>.</p>
</body>
</html>
`;
}
