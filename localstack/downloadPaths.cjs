/**
 * Preloaded into serverless-offline by the local cloud (localstack/cloud.ts). API Gateway hands a path
 * parameter to the Lambda as sent, malformed percent-escapes included; hapi, under serverless-offline, refuses
 * such a path with its own 400 before any route runs. For paths under /downloads this escapes every `%` of
 * a path that does not decode, so the download route receives the escape as sent and answers it with its own
 * 404 page, as on AWS. Nothing else is touched.
 */
'use strict';

const hapi = require('@hapi/hapi');

const DOWNLOADS = /^\/[^/?#]+\/downloads(?:[/?#]|$)/;

function decodes(path) {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** The request URL with the `%` of its path escaped, or undefined when it needs nothing. */
function rawDownloadUrl(url) {
  const end = url.search(/[?#]/);
  const path = end === -1 ? url : url.slice(0, end);
  if (!DOWNLOADS.test(path) || decodes(path)) return undefined;
  return `${path.replace(/%/g, '%25')}${end === -1 ? '' : url.slice(end)}`;
}

const prototype = Object.getPrototypeOf(hapi.server({ autoListen: false }));
const start = prototype.start;
prototype.start = function startWithRawDownloadPaths(...args) {
  this.ext('onRequest', (request, h) => {
    const url = rawDownloadUrl(request.raw.req.url);
    if (url !== undefined) request.setUrl(url);
    return h.continue;
  });
  return start.apply(this, args);
};

module.exports = { rawDownloadUrl };
