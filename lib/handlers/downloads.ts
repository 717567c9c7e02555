import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  DOWNLOAD_METHODS,
  DOWNLOAD_SECURITY_HEADERS,
  type DownloadDeps,
  type DownloadResponse,
  downloadRequest,
  messagePage,
  UNAVAILABLE,
} from '../downloads/downloads';

/**
 * `/downloads` and everything under it (`/downloads/{proxy+}`), any method: public, the token is the
 * credential. Catching every path here means no path under /downloads falls through to API Gateway's or the
 * local server's own answer.
 */
export function makeDownloadHandler(deps: DownloadDeps) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    let response: DownloadResponse;
    try {
      response = await downloadRequest(deps, event.httpMethod, event.pathParameters?.proxy);
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
      case 'text':
        return {
          statusCode: response.status,
          headers: {
            ...headers,
            'content-type': 'text/plain; charset=utf-8',
            // Shown in the browser; saved under its own name.
            'content-disposition': `inline; filename="${response.name}"`,
          },
          body: response.text,
        };
      case 'message':
        return {
          statusCode: response.status,
          headers: {
            ...headers,
            'content-type': 'text/html; charset=utf-8',
            ...(response.status === 405 ? { allow: DOWNLOAD_METHODS.join(', ') } : {}),
          },
          body: messagePage(response.title, response.message),
        };
    }
  };
}
