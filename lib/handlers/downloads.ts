import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { download, type DownloadDeps, messagePage } from '../downloads/downloads';

/** `GET /downloads/{token}` and `GET /downloads/{token}/{file}`: public, the token is the credential. */
export function makeDownloadHandler(deps: DownloadDeps) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const { token = '', file } = event.pathParameters ?? {};
    const response = await download(deps, token, file === undefined ? undefined : decodeURIComponent(file));
    // The page and the redirect depend on the delivery's state at this moment; nothing may cache them.
    const headers = { 'cache-control': 'no-store' };
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
