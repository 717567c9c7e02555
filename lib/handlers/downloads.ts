import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { download, type DownloadDeps, type DownloadResponse, DOWNLOAD_SECURITY_HEADERS, messagePage, UNAVAILABLE } from '../downloads/downloads';

/** `GET /downloads/{token}` and `GET /downloads/{token}/{file}`: public, the token is the credential. */
export function makeDownloadHandler(deps: DownloadDeps) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const { token = '', file } = event.pathParameters ?? {};
    let response: DownloadResponse;
    try {
      response = await download(deps, token, file);
    } catch (error) {
      // The S3 key in a storage error holds the token, the credential: it is cut out of what is logged.
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      deps.log.error('download failed', { reason: reason.replace(/[0-9a-f]{64}/gi, '<token>') });
      response = UNAVAILABLE;
    }
    // The page and the redirect depend on the delivery's state at this moment; nothing may cache them.
    const headers = { ...DOWNLOAD_SECURITY_HEADERS, 'cache-control': 'no-store' };
    switch (response.kind) {
      case 'redirect':
        return { statusCode: response.status, headers: { ...headers, location: response.location }, body: '' };
      case 'page':
        return { statusCode: response.status, headers: { ...headers, 'content-type': 'text/html; charset=utf-8' }, body: response.html };
      case 'message':
        return {
          statusCode: response.status,
          headers: { ...headers, 'content-type': 'text/html; charset=utf-8' },
          body: messagePage(response.title, response.message),
        };
    }
  };
}
