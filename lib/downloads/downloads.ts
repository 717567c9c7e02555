/**
 * The stable download link of the user's email (`GET /downloads/{token}`). A presigned URL lives at most
 * 7 days (less when signed with a Lambda role's credentials), so the email carries this link instead: each
 * visit checks the delivery is still there and signs a fresh URL for the tarball asked for. The README and
 * SHA256SUMS are small texts made from the manifest, served here so that the browser shows them.
 */
import { createHash } from 'node:crypto';
import {
  type DeliveryManifest,
  deliveryPrefix,
  deliveryReadme,
  downloadLink,
  formatBytes,
  README_NAME,
  SHA256SUMS_NAME,
  sha256Sums,
  utcMinute,
} from '../domain/delivery';
import type { Logger } from '../log';
import type { DeliveryStore } from '../storage/DeliveryStore';

export interface DownloadDeps {
  readonly store: DeliveryStore;
  readonly log: Logger;
  readonly now: () => Date;
  /** Lifetime of each presigned URL handed out. */
  readonly linkSeconds: number;
  /**
   * Public base URL of the API, as in the email's link. The page links its files under it, so the links work
   * whether the page was opened with a trailing slash or without.
   */
  readonly baseUrl: string;
}

export type DownloadResponse =
  | { readonly kind: 'page'; readonly status: 200; readonly html: string }
  | { readonly kind: 'text'; readonly status: 200; readonly name: string; readonly text: string }
  | { readonly kind: 'redirect'; readonly status: 302; readonly location: string }
  | { readonly kind: 'message'; readonly status: 404 | 405 | 410 | 503; readonly title: string; readonly message: string };

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

/** The methods the route answers; API Gateway hands it every method, so that no path under /downloads goes unanswered. */
export const DOWNLOAD_METHODS = ['GET', 'HEAD'] as const;

const NOT_ALLOWED: DownloadResponse = {
  kind: 'message',
  status: 405,
  title: 'Not a download',
  message: 'A download link is opened in the browser; nothing can be sent to it.',
};

/**
 * Any request under `/downloads`: `path` is what follows `/downloads/` (undefined for `/downloads` itself):
 * `<token>` or `<token>/` for the page, `<token>/<file>` for a file; anything else names no file.
 */
export function downloadRequest(deps: DownloadDeps, method: string, path: string | undefined): Promise<DownloadResponse> {
  if (!(DOWNLOAD_METHODS as readonly string[]).includes(method)) return Promise.resolve(NOT_ALLOWED);
  const [token = '', ...file] = (path ?? '').replace(/\/$/, '').split('/');
  return download(deps, token, file.length === 0 ? undefined : file.join('/'));
}

/**
 * The page of a delivery (`file` undefined), its README or SHA256SUMS, or a redirect to one of its tarballs. A
 * delivery past its expiry date answers 410 even before the lifecycle rule (which runs about once a day) has
 * removed it, unless kept.
 */
export async function download(deps: DownloadDeps, token: string, fileSegment?: string): Promise<DownloadResponse> {
  if (!TOKEN_PATTERN.test(token)) return UNKNOWN;
  const lookup = await deps.store.lookupToken(token);
  if (lookup.state === 'unknown') return UNKNOWN;
  if (lookup.state === 'removed') return gone(`The calibrated data of this link has been deleted. ${ASK_AGAIN}`);
  const { manifest, kept, complete } = lookup;
  if (!kept && deps.now().getTime() >= Date.parse(manifest.expiresAt)) {
    return gone(`The calibrated data of MOUS ${manifest.mous} expired on ${utcMinute(manifest.expiresAt)} and has been deleted. ${ASK_AGAIN}`);
  }
  if (!complete) return gone(`The calibrated data of MOUS ${manifest.mous} has been removed. ${ASK_AGAIN}`);
  if (fileSegment === undefined) return { kind: 'page', status: 200, html: deliveryPage(manifest, kept, deps.baseUrl) };
  const file = decodedSegment(fileSegment);
  const text = file === undefined ? undefined : textFiles(manifest)[file];
  if (file !== undefined && text !== undefined) return { kind: 'text', status: 200, name: file, text };
  if (file === undefined || !manifest.tarballs.some((tarball) => tarball.name === file)) {
    return { kind: 'message', status: 404, title: 'Unknown file', message: `This delivery has no file ${file ?? fileSegment}.` };
  }
  const location = await deps.store.presignDownload(`${deliveryPrefix(manifest.requestId)}${file}`, deps.linkSeconds, file);
  return { kind: 'redirect', status: 302, location };
}

/** The delivery's texts, by file name: what PublishDelivery wrote as README.txt, and the checksums. */
function textFiles(manifest: DeliveryManifest): Readonly<Record<string, string>> {
  return { [README_NAME]: deliveryReadme(manifest), [SHA256SUMS_NAME]: sha256Sums(manifest) };
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
const PAGE_STYLE = [
  'body{font-family:sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222}',
  'header{color:#555;border-bottom:2px solid #2a5d8f;padding-bottom:.3em}',
  'h1{font-size:1.5em}',
  'table{border-collapse:collapse}td,th{padding:.3em 1em;border-bottom:1px solid #ccc;text-align:left}.size{text-align:right}',
  'code{background:#f3f3f3;padding:0 .2em}',
].join('');

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

/** Every download page: the delivery's and those of links that lead nowhere look alike. */
function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>ALMA calibrated data</header>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

/** The page for a link that leads nowhere (any more). */
export function messagePage(title: string, message: string): string {
  return htmlPage(title, `<p>${escapeHtml(message)}</p>`);
}

/** The page the email links to: what the delivery is and its files with sizes, each a link. */
export function deliveryPage(manifest: DeliveryManifest, kept: boolean, baseUrl: string): string {
  const texts = textFiles(manifest);
  const files = [
    { name: README_NAME, note: 'what this delivery is, and the SHA-256 of each tarball' },
    { name: SHA256SUMS_NAME, note: `the checksums, for sha256sum -c ${SHA256SUMS_NAME} beside the tarballs` },
  ]
    .map((file) => ({ ...file, bytes: Buffer.byteLength(texts[file.name]!, 'utf8') }))
    .concat(manifest.tarballs.map((tarball) => ({ name: tarball.name, bytes: tarball.bytes, note: `SHA-256 ${tarball.sha256}` })));
  const link = downloadLink(baseUrl, manifest.token);
  const rows = files
    .map(
      (file) =>
        `<tr><td><a href="${escapeHtml(`${link}/${encodeURIComponent(file.name)}`)}">${escapeHtml(file.name)}</a></td>` +
        `<td class="size" title="${file.bytes} bytes">${escapeHtml(formatBytes(file.bytes))}</td><td>${escapeHtml(file.note)}</td></tr>`,
    )
    .join('\n');
  const fields = manifest.calibratorFields.join(',');
  const expiry = kept
    ? 'This delivery is kept beyond its usual expiry.'
    : `It will be deleted on ${escapeHtml(utcMinute(manifest.expiresAt))} (${manifest.retentionDays} days after staging).`;
  return htmlPage(
    `Calibrated data for MOUS ${manifest.mous}`,
    `<p>Project ${escapeHtml(manifest.projectCode)}, helpdesk ticket ${escapeHtml(manifest.helpdeskTicket)}${
      fields ? `; only data for field ${escapeHtml(fields)}` : ''
    }. Staged ${escapeHtml(utcMinute(manifest.stagedAt))}. ${expiry}</p>
<table>
<thead><tr><th>File</th><th>Size</th><th></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p>Each tarball holds one calibrated measurement set; unpack it with <code>tar xf &lt;name&gt;</code>.</p>`,
  );
}
